"""The spawner and the sweep against kubesim, through the real kubernetes client."""
from datetime import timedelta

import pytest
from django.utils import timezone

from pods.choices import PodStatus as S
from pods.choices import RequestedStatus
from pods.models import Pod
from pods.services.pods import pod_delete, pod_restart, pod_stop
from workers.kube.manifests import LABEL_INSTANCE, LABEL_POD_UID
from workers.spawner import reconcile_pod
from workers.sweep import sweep

pytestmark = pytest.mark.django_db


def fresh(pod):
    return Pod.objects.get(pk=pod.pk)


def run_to_available(sim, pod):
    assert reconcile_pod(pod.pk) == "created"
    sim.advance(30)
    sweep()
    return fresh(pod)


def test_spawn_creates_pod_and_service_then_sweep_marks_available(sim, make_pod, names, core):
    pod = make_pod(networking={"default": {"protocol": "http", "port": 5000}})
    assert pod.status == S.REQUESTED
    assert reconcile_pod(pod.pk) == "created"
    pod = fresh(pod)
    assert pod.status == S.CREATING and pod.instance_id
    assert names("pods") == [pod.k8_name] and names("services") == [pod.k8_name]
    kpod = core.read_namespaced_pod(pod.k8_name, "default")
    assert kpod.metadata.labels[LABEL_POD_UID] == str(pod.uid)
    assert kpod.metadata.labels[LABEL_INSTANCE] == str(pod.instance_id)
    assert kpod.spec.restart_policy == "Never"

    sim.advance(30)
    sim.clear_journal()
    report = sweep()
    pod = fresh(pod)
    assert pod.status == S.AVAILABLE
    assert pod.status_container["message"] == "The pod is running."
    assert pod.start_instance_ts is not None
    assert pod.time_to_stop_ts == pod.start_instance_ts + timedelta(seconds=pod.time_to_stop_default)
    assert report.kube_requests == len(sim.journal()) == 3


def test_credentials_reach_the_cluster_resolved_through_a_secret(sim, make_pod, core):
    import base64

    pod = make_pod(environment_variables={"PASSWORD": "<<TAPIS_user_password>>", "PLAIN": "x"})
    reconcile_pod(pod.pk)
    env = {e.name: e for e in core.read_namespaced_pod(pod.k8_name, "default").spec.containers[0].env}
    assert env["PLAIN"].value == "x"
    assert env["PASSWORD"].value is None
    ref = env["PASSWORD"].value_from.secret_key_ref
    secret = core.read_namespaced_secret(ref.name, "default")
    assert base64.b64decode(secret.data[ref.key]).decode() == pod.credentials.user_password
    assert fresh(pod).environment_variables["PASSWORD"] == "<<TAPIS_user_password>>"


def test_reconcile_twice_is_idempotent(sim, make_pod, names):
    pod = make_pod()
    reconcile_pod(pod.pk)
    assert reconcile_pod(pod.pk).startswith("nothing to do")
    assert len(names("pods")) == 1


def test_stop_tears_down_to_stopped(sim, make_pod, names):
    pod = run_to_available(sim, make_pod())
    pod_stop(pod=pod, actor="alice")
    assert reconcile_pod(pod.pk) == "deleting"
    assert fresh(pod).status == S.DELETING
    sim.advance(60)  # graceful deletion completes
    sweep()
    pod = fresh(pod)
    assert pod.status == S.STOPPED
    assert pod.status_container == {} and pod.start_instance_ts is None
    assert names("pods") == [] and names("services") == []


def test_restart_stops_then_spawns_a_new_instance(sim, make_pod, names):
    pod = run_to_available(sim, make_pod())
    first_instance = pod.instance_id
    pod_restart(pod=pod, actor="alice")
    reconcile_pod(pod.pk)
    sim.advance(60)
    report = sweep()  # DELETING -> STOPPED, and a reconcile is asked for
    assert pod.pk in report.reconciles
    assert reconcile_pod(pod.pk) == "created"
    pod = fresh(pod)
    assert pod.status_requested == RequestedStatus.ON
    assert pod.instance_id != first_instance
    sim.advance(30)
    sweep()
    assert fresh(pod).status == S.AVAILABLE
    assert len(names("pods")) == 1


def test_deleted_pod_objects_are_removed_as_orphans_after_grace(sim, make_pod, names, settings):
    pod = run_to_available(sim, make_pod())
    pod_delete(pod=pod, actor="alice")
    settings.PODS_ORPHAN_GRACE_SECONDS = 0
    report = sweep()
    assert report.orphans_deleted == 2
    sim.advance(60)
    assert names("pods") == [] and names("services") == []


def test_recent_orphans_are_left_alone(sim, make_pod, names, settings):
    pod = make_pod()
    reconcile_pod(pod.pk)
    Pod.objects.filter(pk=pod.pk).delete()
    settings.PODS_ORPHAN_GRACE_SECONDS = 3600
    assert sweep().orphans_deleted == 0
    assert len(names("pods")) == 1


def test_recreated_pod_with_same_id_never_adopts_predecessor(sim, make_pod, core):
    old = run_to_available(sim, make_pod())
    pod_delete(pod=old, actor="alice")
    new = make_pod()
    assert new.k8_name == old.k8_name and new.uid != old.uid
    assert reconcile_pod(new.pk) == "created"
    sim.advance(60)
    kpod = core.read_namespaced_pod(new.k8_name, "default")
    assert kpod.metadata.labels[LABEL_POD_UID] == str(new.uid)


@pytest.mark.parametrize("image,status,fragment", [
    ("kubesim/crashloop", S.ERROR, "exit code"),
    ("kubesim/imagepull-error", S.ERROR, "could not be pulled"),
    ("kubesim/doesnotexist:1", S.ERROR, "could not be pulled"),
    ("kubesim/oom", S.ERROR, "out of memory"),
    ("kubesim/completes", S.COMPLETE, "finished"),
    ("kubesim/fails", S.ERROR, "exit code 1"),
])
def test_scenarios_end_in_the_right_status_with_an_actionable_message(sim, make_pod, image, status, fragment):
    pod = make_pod(image=image)
    reconcile_pod(pod.pk)
    for _ in range(6):
        sim.advance(30)
        sweep()
    pod = fresh(pod)
    assert pod.status == status, pod.status_container
    assert fragment in pod.status_container["message"]


def test_unschedulable_pod_waits_with_the_schedulers_reason(sim, make_pod):
    pod = make_pod(image="kubesim/unschedulable")
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    pod = fresh(pod)
    assert pod.status == S.CREATING
    assert "Waiting for a node" in pod.status_container["message"]


def test_too_large_pod_stays_pending_naming_the_resource(sim, make_pod, settings):
    settings.PODS_CPU_MAX = 100000
    pod = make_pod(resources={"cpu_request": 50000, "cpu_limit": 50000})
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    assert "Insufficient cpu" in fresh(pod).status_container["message"]


def test_lost_create_response_is_adopted_not_duplicated(sim, make_pod, names):
    pod = make_pod()
    sim.inject_fault(verb="POST", path="/api/v1/namespaces/*/pods", drop="after", times=1)
    assert reconcile_pod(pod.pk) == "created"
    assert names("pods") == [pod.k8_name]
    sim.advance(30)
    sweep()
    assert fresh(pod).status == S.AVAILABLE


def test_throttling_is_retried_honouring_retry_after(sim, make_pod, names):
    pod = make_pod()
    sim.inject_fault(verb="POST", path="/api/v1/namespaces/*/pods", status=429, retry_after=0.01, times=2)
    assert reconcile_pod(pod.pk) == "created"
    assert names("pods") == [pod.k8_name]


def test_permanent_refusal_surfaces_as_error(sim, make_pod):
    pod = make_pod()
    sim.inject_fault(verb="POST", path="/api/v1/namespaces/*/pods", status=403,
                     message="pods is forbidden: exceeded quota", times=1)
    assert reconcile_pod(pod.pk) == "refused"
    pod = fresh(pod)
    assert pod.status == S.ERROR
    assert "exceeded quota" in pod.status_container["message"]


def test_outage_leaves_pods_untouched_then_recovers(sim, make_pod):
    pod = run_to_available(sim, make_pod())
    sim.outage()
    report = sweep()
    assert report.cluster == "unreachable"
    assert fresh(pod).status == S.AVAILABLE
    from workers import cluster_health

    assert cluster_health.read()["reachable"] is False
    sim.clear_faults()
    assert sweep().cluster == "ok"
    assert cluster_health.read()["reachable"] is True
    assert fresh(pod).status == S.AVAILABLE


def test_spawn_during_outage_is_redriven_later(sim, make_pod, settings, names):
    pod = make_pod()
    sim.outage()
    settings.PODS_KUBE_ATTEMPTS = 2
    from workers.kube.errors import TransientKubeError

    with pytest.raises(TransientKubeError):
        reconcile_pod(pod.pk)
    assert fresh(pod).status == S.SPAWNER_SETUP
    sim.clear_faults()
    Pod.objects.filter(pk=pod.pk).update(status_changed_at=timezone.now() - timedelta(minutes=5))
    assert pod.pk in sweep().reconciles
    assert reconcile_pod(pod.pk) == "created"
    assert names("pods") == [pod.k8_name]


def test_creating_pod_whose_kube_pod_vanished_is_redriven(sim, make_pod, core):
    pod = make_pod()
    reconcile_pod(pod.pk)
    core.delete_namespaced_pod(pod.k8_name, "default", grace_period_seconds=0)
    Pod.objects.filter(pk=pod.pk).update(status_changed_at=timezone.now() - timedelta(minutes=5))
    report = sweep()
    assert fresh(pod).status == S.REQUESTED and pod.pk in report.reconciles


def test_available_pod_that_vanished_is_started_again(sim, make_pod, core):
    pod = run_to_available(sim, make_pod())
    core.delete_namespaced_pod(pod.k8_name, "default", grace_period_seconds=0)
    report = sweep()
    pod = fresh(pod)
    assert pod.status == S.REQUESTED and pod.pk in report.reconciles
    assert "disappeared" in pod.status_container["message"]


def test_time_to_stop_turns_the_pod_off(sim, make_pod):
    pod = run_to_available(sim, make_pod())
    Pod.objects.filter(pk=pod.pk).update(time_to_stop_ts=timezone.now() - timedelta(seconds=1))
    report = sweep()
    pod = fresh(pod)
    assert pod.status_requested == RequestedStatus.OFF and pod.pk in report.reconciles
    assert pod.events.filter(message__contains="time_to_stop").exists()


def test_steady_state_sweep_costs_three_requests_and_no_writes(sim, make_pod, django_assert_max_num_queries):
    for i in range(5):
        run_to_available(sim, make_pod(f"pod{i}"))
    sweep()
    sim.clear_journal()
    with django_assert_max_num_queries(2):
        report = sweep()
    assert report.transitions == 0 and report.container_updates == 0
    assert report.kube_requests == len(sim.journal()) == 3


def test_sweep_reports_the_requests_it_sent_retries_included(sim, make_pod):
    run_to_available(sim, make_pod())
    sim.inject_fault(verb="GET", path="/api/v1/namespaces/*/pods", status=503, times=2)
    sim.clear_journal()
    report = sweep()
    sent = sim.journal()
    assert [(e["path"].rsplit("/", 1)[-1], e["status"]) for e in sent] == [
        ("pods", 503), ("pods", 503), ("pods", 200), ("services", 200), ("events", 200)]
    assert report.cluster == "ok" and report.kube_requests == 5


def test_sweep_of_an_unreachable_cluster_reports_every_attempt(sim, make_pod, settings):
    run_to_available(sim, make_pod())
    settings.PODS_KUBE_ATTEMPTS = 3
    sim.outage()
    sim.clear_journal()
    report = sweep()
    assert report.cluster == "unreachable"
    assert report.kube_requests == len(sim.journal()) == 3


def test_sweep_counts_log_tails_and_orphan_deletes_even_refused_ones(sim, make_pod, settings):
    gone = run_to_available(sim, make_pod("gone"))
    pod_delete(pod=gone, actor="alice")
    settings.PODS_ORPHAN_GRACE_SECONDS = 0
    crashing = make_pod("crashy", image="kubesim/fails")
    reconcile_pod(crashing.pk)
    sim.advance(60)  # the container runs and exits 1: this sweep reads its log tail
    sim.inject_fault(verb="DELETE", path="/api/v1/namespaces/*/services/*", status=422, times=1)
    sim.clear_journal()
    report = sweep()
    sent = [(e["method"], e["path"].split("/")[-1 if e["method"] == "GET" else -2], e["status"]) for e in sim.journal()]
    assert fresh(crashing).status == S.ERROR and "Last log lines" in fresh(crashing).status_container["message"]
    assert ("GET", "log", 200) in sent and ("DELETE", "services", 422) in sent and ("DELETE", "pods", 200) in sent
    assert report.orphans_deleted == 1
    assert report.kube_requests == len(sent) == 6


def test_ephemeral_file_mount_is_served_from_a_secret_owned_by_the_pod(sim, make_pod, core):
    import base64

    pod = make_pod(volume_mounts={"/etc/app/settings.toml": {
        "type": "ephemeral", "config_content": "password = '<<TAPIS_user_password>>'\n", "config_permissions": "0600"}})
    reconcile_pod(pod.pk)
    kpod = core.read_namespaced_pod(pod.k8_name, "default")
    mount = kpod.spec.containers[0].volume_mounts[0]
    assert mount.mount_path == "/etc/app/settings.toml" and mount.sub_path == "settings.toml" and mount.read_only
    assert kpod.spec.volumes[0].config_map is None
    secret_name = kpod.spec.volumes[0].secret.secret_name
    assert kpod.spec.volumes[0].secret.default_mode == 0o600
    secret = core.read_namespaced_secret(secret_name, "default")
    assert base64.b64decode(secret.data["settings.toml"]).decode() == f"password = '{pod.credentials.user_password}'\n"
    assert secret.metadata.owner_references[0].uid == kpod.metadata.uid
    assert not core.list_namespaced_config_map("default").items
    sim.advance(30)
    sweep()
    assert fresh(pod).status == S.AVAILABLE


def test_warning_events_are_kept_per_pod_and_shown_in_the_admin(sim, make_pod, client, admin_user):
    pod = make_pod(image="kubesim/imagepull-error")
    reconcile_pod(pod.pk)
    for _ in range(3):
        sim.advance(30)
        sweep()
    warnings = fresh(pod).health["warnings"]
    assert warnings and any("Failed" in w or "BackOff" in w for w in warnings)
    client.force_login(admin_user)
    page = client.get(f"/admin/pods/pod/{pod.pk}/change/")
    assert page.status_code == 200
    assert warnings[-1].split(":")[0].encode() in page.content


def test_deleting_a_pod_removes_its_objects_at_once_but_never_a_successors(sim, make_pod, names, core):
    from workers.spawner import remove_objects

    old = run_to_available(sim, make_pod())
    name, old_uid = old.k8_name, str(old.uid)
    pod_delete(pod=old, actor="alice")
    assert remove_objects(name, old_uid) == 2  # Pod, Service; the NetworkPolicy goes with the Pod
    sim.advance(60)
    assert names("pods") == [] and names("services") == []
    from kubernetes import client

    policies = client.NetworkingV1Api(core.api_client).list_namespaced_network_policy("default").items
    assert name not in [p.metadata.name for p in policies], "collected with its owner, the Pod"
    assert remove_objects(name, old_uid) == 0, "idempotent"

    new = run_to_available(sim, make_pod())
    assert remove_objects(name, old_uid) == 0, "a late message for the old row spares the new pod"
    assert names("pods") == [new.k8_name]
