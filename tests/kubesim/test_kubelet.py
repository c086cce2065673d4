"""The simulated scheduler and kubelet: timelines, scenarios, deletion, events."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from .helpers import pod_manifest


def events_for(core, name, namespace="default"):
    items = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
    return [(e.type, e.reason, e.message, e.count) for e in
            sorted(items.items, key=lambda e: e.metadata.resource_version and
                   int(e.metadata.resource_version))]


def reasons(core, name):
    return [reason for _, reason, _, _ in events_for(core, name)]


def container(core, name):
    return core.read_namespaced_pod(name, "default").status.container_statuses[0]


def condition(pod, ctype):
    return next(c for c in pod.status.conditions if c.type == ctype)


def test_happy_path_timeline(core, sim):
    core.create_namespaced_pod("default", pod_manifest("web"))
    pending = core.read_namespaced_pod("web", "default")
    assert pending.status.phase == "Pending" and not pending.spec.node_name
    sim.advance(0)
    scheduled = core.read_namespaced_pod("web", "default")
    assert scheduled.spec.node_name == "kubesim-node"
    assert condition(scheduled, "PodScheduled").status == "True"
    assert scheduled.status.host_ip == "172.18.0.2" and scheduled.status.start_time
    cs = scheduled.status.container_statuses[0]
    assert cs.state.waiting.reason == "ContainerCreating" and cs.ready is False
    assert cs.image_id == "" and cs.restart_count == 0
    sim.advance(5)
    pod = core.read_namespaced_pod("web", "default")
    assert pod.status.phase == "Running"
    assert pod.status.pod_ip.startswith("10.244.") and pod.status.pod_ips[0].ip == pod.status.pod_ip
    for ctype in ("Initialized", "Ready", "ContainersReady", "PodScheduled",
                  "PodReadyToStartContainers"):
        assert condition(pod, ctype).status == "True"
    cs = pod.status.container_statuses[0]
    assert cs.ready and cs.started and cs.state.running.started_at
    assert cs.image == "docker.io/library/nginx:1.27"
    assert cs.image_id.startswith("docker.io/library/nginx@sha256:")
    assert cs.container_id.startswith("containerd://")
    assert reasons(core, "web") == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    scheduled_event = events_for(core, "web")[0]
    assert scheduled_event[2] == "Successfully assigned default/web to kubesim-node"


def test_second_pod_with_same_image_is_already_present(core, sim):
    core.create_namespaced_pod("default", pod_manifest("one"))
    sim.advance(5)
    core.create_namespaced_pod("default", pod_manifest("two"))
    sim.advance(5)
    messages = [m for _, r, m, _ in events_for(core, "two") if r == "Pulled"]
    assert messages == ['Container image "nginx:1.27" already present on machine']


def test_crashloop_restart_policy_always(core, sim):
    core.create_namespaced_pod("default", pod_manifest("crash", image="kubesim/crashloop"))
    sim.advance(2.5)
    assert container(core, "crash").state.running
    sim.advance(3)  # first exit at ~5 s
    cs = container(core, "crash")
    assert cs.state.terminated.reason == "Error" and cs.state.terminated.exit_code == 1
    sim.advance(1)  # first restart is immediate
    cs = container(core, "crash")
    assert cs.state.running and cs.restart_count == 1
    assert cs.last_state.terminated.exit_code == 1
    sim.advance(4)  # second exit, then CrashLoopBackOff
    pod = core.read_namespaced_pod("crash", "default")
    cs = pod.status.container_statuses[0]
    assert pod.status.phase == "Running"
    assert cs.state.waiting.reason == "CrashLoopBackOff"
    assert cs.state.waiting.message.startswith("back-off 10s restarting failed container=main")
    assert cs.restart_count == 1 and cs.ready is False
    assert condition(pod, "Ready").status == "False"
    backoff = [e for e in events_for(core, "crash") if e[1] == "BackOff"]
    assert backoff[0][0] == "Warning"
    assert backoff[0][2].startswith("Back-off restarting failed container main in pod crash_")
    sim.advance(10)
    assert container(core, "crash").restart_count == 2
    sim.advance(60)
    assert container(core, "crash").restart_count >= 3


def test_crashloop_restart_policy_never_fails(core, sim):
    core.create_namespaced_pod("default", pod_manifest("once", image="kubesim/crashloop",
                                                       restart_policy="Never"))
    sim.advance(30)
    pod = core.read_namespaced_pod("once", "default")
    assert pod.status.phase == "Failed"
    cs = pod.status.container_statuses[0]
    assert cs.state.terminated.reason == "Error" and cs.restart_count == 0
    assert condition(pod, "Ready").reason == "PodFailed"


def test_on_failure_restarts_failures(core, sim):
    core.create_namespaced_pod("default", pod_manifest("of", image="kubesim/fails",
                                                       restart_policy="OnFailure"))
    sim.advance(20)
    pod = core.read_namespaced_pod("of", "default")
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].restart_count >= 1


def test_oom(core, sim):
    core.create_namespaced_pod("default", pod_manifest("oom", image="registry.local/kubesim/oom:1",
                                                       restart_policy="Never"))
    sim.advance(10)
    terminated = container(core, "oom").state.terminated
    assert (terminated.reason, terminated.exit_code) == ("OOMKilled", 137)


def test_completes_and_fails(core, sim):
    core.create_namespaced_pod("default", pod_manifest("ok", image="kubesim/completes",
                                                       restart_policy="Never"))
    core.create_namespaced_pod("default", pod_manifest("ko", image="kubesim/fails",
                                                       restart_policy="Never"))
    sim.advance(10)
    ok = core.read_namespaced_pod("ok", "default")
    assert ok.status.phase == "Succeeded"
    assert ok.status.container_statuses[0].state.terminated.reason == "Completed"
    assert condition(ok, "Ready").reason == "PodCompleted"
    ko = core.read_namespaced_pod("ko", "default")
    assert ko.status.phase == "Failed"
    assert ko.status.container_statuses[0].state.terminated.exit_code == 1


def test_completes_with_restart_always_crashloops(core, sim):
    core.create_namespaced_pod("default", pod_manifest("again", image="kubesim/completes"))
    sim.advance(20)
    cs = container(core, "again")
    assert cs.restart_count >= 1
    assert cs.last_state.terminated.reason == "Completed"


@pytest.mark.parametrize("image", ["kubesim/imagepull-error", "myrepo/doesnotexist:v1"])
def test_image_pull_errors(core, sim, image):
    core.create_namespaced_pod("default", pod_manifest("pull", image=image))
    sim.advance(2.5)
    cs = container(core, "pull")
    assert cs.state.waiting.reason == "ErrImagePull"
    sim.advance(1)
    pod = core.read_namespaced_pod("pull", "default")
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
    warnings = [(r, m) for t, r, m, _ in events_for(core, "pull") if t == "Warning"]
    assert warnings[0][0] == "Failed"
    assert warnings[0][1].startswith(f'Failed to pull image "{image}": ')
    assert ("Failed", "Error: ErrImagePull") in warnings
    assert ("Failed", "Error: ImagePullBackOff") in warnings
    sim.advance(30)
    pulls = [c for _, r, m, c in events_for(core, "pull") if m == "Error: ErrImagePull"]
    assert pulls[0] >= 2  # retried and deduplicated into one Event with a count


def test_slow_start(core, sim):
    core.create_namespaced_pod("default", pod_manifest("slow", image="kubesim/slow-start"))
    sim.advance(30)
    assert container(core, "slow").state.waiting.reason == "ContainerCreating"
    sim.advance(40)
    assert container(core, "slow").state.running


def test_unschedulable(core, sim):
    core.create_namespaced_pod("default", pod_manifest("nope", image="kubesim/unschedulable"))
    sim.advance(10)
    pod = core.read_namespaced_pod("nope", "default")
    assert pod.status.phase == "Pending" and not pod.spec.node_name
    scheduled = condition(pod, "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    kind, reason, message, _ = events_for(core, "nope")[0]
    assert (kind, reason) == ("Warning", "FailedScheduling")
    assert message.startswith("0/1 nodes are available")


def test_insufficient_cpu_then_capacity_frees(core, sim):
    big = pod_manifest("big")
    big["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "3"}}
    core.create_namespaced_pod("default", big)
    other = pod_manifest("other")
    other["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "2"}}
    core.create_namespaced_pod("default", other)
    sim.advance(5)
    pod = core.read_namespaced_pod("other", "default")
    assert pod.status.phase == "Pending"
    message = condition(pod, "PodScheduled").message
    assert message.startswith("0/1 nodes are available: 1 Insufficient cpu.")
    assert events_for(core, "other")[0][2] == message
    core.delete_namespaced_pod("big", "default", grace_period_seconds=0)
    sim.advance(5)
    assert core.read_namespaced_pod("other", "default").status.phase == "Running"


def test_scenario_by_annotation_and_rule(core, sim):
    core.create_namespaced_pod("default", pod_manifest(
        "ann", annotations={"kubesim.io/scenario": "oom"}, restart_policy="Never"))
    sim.set_scenario("fails", pod="rule-*")
    core.create_namespaced_pod("default", pod_manifest("rule-1", restart_policy="Never"))
    sim.set_scenario("slow-start")  # the new default
    core.create_namespaced_pod("default", pod_manifest("default-slow"))
    sim.advance(10)
    assert container(core, "ann").state.terminated.reason == "OOMKilled"
    assert container(core, "rule-1").state.terminated.exit_code == 1
    assert container(core, "default-slow").state.waiting.reason == "ContainerCreating"


def test_timing_annotations(core, sim):
    core.create_namespaced_pod("default", pod_manifest(
        "timed", restart_policy="Never",
        annotations={"kubesim.io/run-seconds": "20", "kubesim.io/exit-code": "3"}))
    sim.advance(15)
    assert container(core, "timed").state.running
    sim.advance(10)
    assert container(core, "timed").state.terminated.exit_code == 3


def test_graceful_delete_timeline(core, sim):
    core.create_namespaced_pod("default", pod_manifest("bye"))
    sim.advance(5)
    deleted = core.delete_namespaced_pod("bye", "default", grace_period_seconds=20)
    assert deleted.metadata.deletion_grace_period_seconds == 20
    assert deleted.status.phase == "Running"  # phase is unchanged; kubectl shows Terminating
    assert ("Normal", "Killing", "Stopping container main", 1) in events_for(core, "bye")
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", pod_manifest("bye"))
    assert err.value.status == 409
    sim.advance(1)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("bye", "default")
    assert err.value.status == 404


def test_slow_stopping_container_is_killed_at_grace(core, sim):
    core.create_namespaced_pod("default", pod_manifest(
        "stubborn", annotations={"kubesim.io/stop-seconds": "100"}))
    sim.advance(5)
    core.delete_namespaced_pod("stubborn", "default", grace_period_seconds=10)
    sim.advance(5)
    assert core.read_namespaced_pod("stubborn", "default").metadata.deletion_timestamp
    core.delete_namespaced_pod("stubborn", "default", grace_period_seconds=2)  # shortens
    sim.advance(2.5)
    with pytest.raises(ApiException):
        core.read_namespaced_pod("stubborn", "default")


def test_unscheduled_or_zero_grace_delete_is_immediate(core, sim):
    core.create_namespaced_pod("default", pod_manifest("pending"))
    deleted = core.delete_namespaced_pod("pending", "default")
    assert deleted.metadata.name == "pending"
    with pytest.raises(ApiException):
        core.read_namespaced_pod("pending", "default")
    core.create_namespaced_pod("default", pod_manifest("now"))
    sim.advance(5)
    core.delete_namespaced_pod("now", "default", grace_period_seconds=0)
    with pytest.raises(ApiException):
        core.read_namespaced_pod("now", "default")


def test_active_deadline(core, sim):
    core.create_namespaced_pod("default", pod_manifest("deadline", activeDeadlineSeconds=30))
    sim.advance(40)
    pod = core.read_namespaced_pod("deadline", "default")
    assert pod.status.phase == "Failed" and pod.status.reason == "DeadlineExceeded"


def test_missing_secret_env_is_config_error_until_created(core, sim):
    body = pod_manifest("cfg")
    body["spec"]["containers"][0]["env"] = [{"name": "TOKEN", "valueFrom": {
        "secretKeyRef": {"name": "creds", "key": "token"}}}]
    core.create_namespaced_pod("default", body)
    sim.advance(5)
    cs = container(core, "cfg")
    assert cs.state.waiting.reason == "CreateContainerConfigError"
    assert cs.state.waiting.message == 'secret "creds" not found'
    core.create_namespaced_secret("default", {"metadata": {"name": "creds"},
                                              "stringData": {"token": "t"}})
    sim.advance(10)
    assert container(core, "cfg").state.running


def test_missing_secret_volume_is_failed_mount(core, sim):
    body = pod_manifest("mnt", volumes=[{"name": "creds", "secret": {"secretName": "missing"}}])
    core.create_namespaced_pod("default", body)
    sim.advance(10)
    assert container(core, "mnt").state.waiting.reason == "ContainerCreating"
    mounts = [(t, m) for t, r, m, _ in events_for(core, "mnt") if r == "FailedMount"]
    assert mounts == [("Warning", 'MountVolume.SetUp failed for volume "creds" : '
                                  'secret "missing" not found')]


def test_invalid_image_name(core, sim):
    core.create_namespaced_pod("default", pod_manifest("inv", image="Not/Valid"))
    sim.advance(5)
    assert container(core, "inv").state.waiting.reason == "InvalidImageName"


def test_event_ttl_expires_events(core, sim):
    core.create_namespaced_pod("default", pod_manifest("old"))
    sim.advance(5)
    assert events_for(core, "old")
    sim.advance(3700)
    assert events_for(core, "old") == []


def test_readiness_and_startup_probes_delay_ready(core, sim):
    body = pod_manifest("probed")
    body["spec"]["containers"][0]["startupProbe"] = {"httpGet": {"path": "/", "port": 80},
                                                     "initialDelaySeconds": 5}
    body["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/", "port": 80},
                                                       "initialDelaySeconds": 10}
    core.create_namespaced_pod("default", body)
    sim.advance(4)  # running since t=2
    pod = core.read_namespaced_pod("probed", "default")
    cs = pod.status.container_statuses[0]
    assert pod.status.phase == "Running" and cs.state.running
    assert (cs.started, cs.ready) == (False, False)
    assert condition(pod, "Ready").status == "False"
    sim.advance(4)  # startup probe passed at t=7
    cs = container(core, "probed")
    assert (cs.started, cs.ready) == (True, False)
    sim.advance(10)  # readiness passed at t=17
    pod = core.read_namespaced_pod("probed", "default")
    assert pod.status.container_statuses[0].ready is True
    assert condition(pod, "Ready").status == "True"


def test_init_containers_run_in_order_before_regular_containers(core, sim):
    body = pod_manifest("init", initContainers=[{"name": "one", "image": "busybox:1"},
                                                {"name": "two", "image": "busybox:1"}])
    core.create_namespaced_pod("default", body)
    sim.advance(1)
    pod = core.read_namespaced_pod("init", "default")
    assert pod.status.phase == "Pending"
    assert condition(pod, "Initialized").message == "containers with incomplete status: [one two]"
    assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    sim.advance(2.5)  # "one" started at 2 s and finished at 3 s
    pod = core.read_namespaced_pod("init", "default")
    first = pod.status.init_container_statuses[0]
    assert first.state.terminated.reason == "Completed" and first.ready
    sim.advance(10)
    pod = core.read_namespaced_pod("init", "default")
    assert pod.status.phase == "Running"
    assert condition(pod, "Initialized").status == "True"
    assert all(s.state.terminated.exit_code == 0 for s in pod.status.init_container_statuses)
    paths = {e.involved_object.field_path for e in core.list_namespaced_event(
        "default", field_selector="involvedObject.name=init,reason=Started").items}
    assert paths == {"spec.initContainers{one}", "spec.initContainers{two}",
                     "spec.containers{main}"}
    assert core.read_namespaced_pod_log("init", "default", container="one").startswith(
        "kubesim: starting container one")


def test_failing_init_container(core, sim):
    core.create_namespaced_pod("default", pod_manifest(
        "bad-init", restart_policy="Never",
        initContainers=[{"name": "setup", "image": "kubesim/fails"}]))
    sim.advance(20)
    pod = core.read_namespaced_pod("bad-init", "default")
    assert pod.status.phase == "Failed"
    assert pod.status.init_container_statuses[0].state.terminated.exit_code == 1
    assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    core.create_namespaced_pod("default", pod_manifest(
        "loop-init", initContainers=[{"name": "setup", "image": "kubesim/crashloop"}]))
    sim.advance(30)
    pod = core.read_namespaced_pod("loop-init", "default")
    assert pod.status.phase == "Pending"
    assert pod.status.init_container_statuses[0].restart_count >= 1
