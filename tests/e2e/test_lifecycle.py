"""End to end through tapipy: a live server, a real worker and beat, and kubesim."""
import pytest

from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e]


def status_of(t, pod_id):
    return t.pods.get_pod(pod_id=pod_id).status


def wait_status(t, pod_id, wanted, timeout=30):
    wait_for(lambda: status_of(t, pod_id) == wanted, timeout, f"{pod_id} to be {wanted}")
    return t.pods.get_pod(pod_id=pod_id)


def test_custom_pod_lifecycle(tapis, cluster_pods):
    t = tapis
    created = t.pods.create_pod(pod_id="webapp", image="kubesim/web:1", description="my web app")
    assert created.status == "REQUESTED"
    pod = wait_status(t, "webapp", "AVAILABLE")
    assert pod.networking.default.url == "webapp.pods.localhost"
    assert cluster_pods() == ["pods-local-dev-webapp"]
    logs = wait_for(lambda: t.pods.get_pod_logs(pod_id="webapp").logs, 20, "logs")
    assert "starting container" in logs

    t.pods.stop_pod(pod_id="webapp")
    wait_status(t, "webapp", "STOPPED")
    assert cluster_pods(include_terminating=True) == [] and cluster_pods("services") == []

    t.pods.start_pod(pod_id="webapp")
    wait_status(t, "webapp", "AVAILABLE")
    t.pods.restart_pod(pod_id="webapp")
    wait_for(lambda: status_of(t, "webapp") != "AVAILABLE", 20, "restart to begin")
    wait_status(t, "webapp", "AVAILABLE")
    assert cluster_pods() == ["pods-local-dev-webapp"]
    action_logs = " ".join(t.pods.get_pod_logs(pod_id="webapp").action_logs)
    assert "DELETING" in action_logs and "STOPPED" in action_logs

    t.pods.delete_pod(pod_id="webapp")
    wait_for(lambda: cluster_pods(include_terminating=True) == [] and cluster_pods("services") == [], 30,
             "objects of the deleted pod to be gone")


def test_scenarios_show_status_and_actionable_message(tapis):
    t = tapis
    cases = {
        "crashy": ("kubesim/crashloop", "ERROR", "exit code"),
        "pullfail": ("kubesim/imagepull-error", "ERROR", "could not be pulled"),
        "hungry": ("kubesim/oom", "ERROR", "out of memory"),
        "pending": ("kubesim/unschedulable", "CREATING", "Waiting for a node"),
        "batch": ("kubesim/completes", "COMPLETE", "finished"),
    }
    for pod_id, (image, _, _) in cases.items():
        t.pods.create_pod(pod_id=pod_id, image=image)
    for pod_id, (_, status, fragment) in cases.items():
        wait_for(lambda: (p := t.pods.get_pod(pod_id=pod_id)).status == status
                 and fragment in p.status_container.message, 40, f"{pod_id}: {status} with '{fragment}'")


def test_lost_create_response_converges_to_one_pod(tapis, stack, cluster_pods):
    stack.sim.inject_fault(verb="POST", path="/api/v1/namespaces/*/pods", drop="after", times=1)
    tapis.pods.create_pod(pod_id="dropped", image="kubesim/web:1")
    wait_status(tapis, "dropped", "AVAILABLE")
    assert cluster_pods() == ["pods-local-dev-dropped"]


def test_worker_killed_mid_spawn_converges_to_one_pod(tapis, stack, cluster_pods):
    # The create call hangs long enough to kill the worker while it is inside it.
    stack.sim.inject_fault(verb="POST", path="/api/v1/namespaces/*/pods", latency=3, times=1)
    tapis.pods.create_pod(pod_id="orphaned", image="kubesim/web:1")
    wait_for(lambda: status_of(tapis, "orphaned") == "SPAWNER SETUP", 10, "spawn to start")
    stack.kill_worker()
    stack.start_worker()
    wait_status(tapis, "orphaned", "AVAILABLE", timeout=40)
    assert cluster_pods() == ["pods-local-dev-orphaned"]


@pytest.mark.timeout_note("about 60 s of wall time: the outage the issue asks for")
def test_sixty_second_outage_converges(tapis, stack, cluster_pods):
    t = tapis
    t.pods.create_pod(pod_id="steady", image="kubesim/web:1")
    wait_status(t, "steady", "AVAILABLE")
    fault = stack.sim.outage()
    t.pods.create_pod(pod_id="during", image="kubesim/web:1")  # the API keeps working
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert status_of(t, "steady") == "AVAILABLE", "an outage must not change observed state"
        time.sleep(5)
    stack.sim.remove_fault(fault)
    wait_status(t, "during", "AVAILABLE", timeout=60)
    assert status_of(t, "steady") == "AVAILABLE"
    assert cluster_pods() == ["pods-local-dev-during", "pods-local-dev-steady"]
