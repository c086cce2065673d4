"""Mapping Kubernetes pod state to our status and a message a user can act on (table-driven)."""
import pytest

from pods.choices import PodStatus as S
from workers.observe import observe


def kpod(phase="Pending", state=None, last=None, conditions=None, deleting=False, ready=False, restarts=0):
    status = {"phase": phase, "startTime": "2026-11-29T00:00:00Z"}
    if state is not None:
        cs = {"name": "pod", "state": state, "ready": ready, "restartCount": restarts}
        if last:
            cs["lastState"] = last
        status["containerStatuses"] = [cs]
    if conditions:
        status["conditions"] = conditions
    meta = {"name": "pods-local-dev-x"}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-29T00:01:00Z"
    return {"metadata": meta, "spec": {"containers": [{"image": "kubesim/app:1"}]}, "status": status}


CASES = [
    ("scheduling", kpod(), S.CREATING, "scheduled"),
    ("creating", kpod(state={"waiting": {"reason": "ContainerCreating"}}), S.CREATING, "starting"),
    ("running", kpod("Running", {"running": {"startedAt": "2026-11-29T00:00:05Z"}}, ready=True), S.AVAILABLE, "running"),
    ("image pull", kpod(state={"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}),
     S.ERROR, "Image 'kubesim/app:1' could not be pulled (ImagePullBackOff)"),
    ("err image pull", kpod(state={"waiting": {"reason": "ErrImagePull"}}), S.ERROR, "could not be pulled"),
    ("invalid name", kpod(state={"waiting": {"reason": "InvalidImageName"}}), S.ERROR, "InvalidImageName"),
    ("crash", kpod("Failed", {"terminated": {"reason": "Error", "exitCode": 1}}), S.ERROR, "exit code 1"),
    ("oom", kpod("Failed", {"terminated": {"reason": "OOMKilled", "exitCode": 137}}), S.ERROR, "ran out of memory"),
    ("crashloop", kpod("Running", {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
                       last={"terminated": {"reason": "Error", "exitCode": 2}}, restarts=3), S.ERROR, "exit code 2"),
    ("completed", kpod("Succeeded", {"terminated": {"reason": "Completed", "exitCode": 0}}), S.COMPLETE, "finished"),
    ("config error", kpod(state={"waiting": {"reason": "CreateContainerConfigError", "message": "secret x not found"}}),
     S.ERROR, "secret x not found"),
    ("unschedulable", kpod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                        "message": "0/1 nodes are available: 1 Insufficient cpu."}]),
     S.CREATING, "Insufficient cpu"),
]


@pytest.mark.parametrize("name,pod,status,fragment", CASES, ids=[c[0] for c in CASES])
def test_observation(name, pod, status, fragment):
    seen = observe(pod)
    assert seen.status == status
    assert fragment in seen.container["message"]


def test_running_reports_ready_and_restarts():
    seen = observe(kpod("Running", {"running": {"startedAt": "t"}}, ready=True, restarts=2))
    assert seen.container["ready"] is True and seen.container["restart_count"] == 2


def test_terminating_pod_leaves_status_alone():
    assert observe(kpod("Running", {"running": {}}, deleting=True)).status is None


def test_errors_from_exits_ask_for_the_log_tail():
    assert observe(kpod("Failed", {"terminated": {"reason": "Error", "exitCode": 1}})).wants_log_tail
    assert not observe(kpod(state={"waiting": {"reason": "ErrImagePull"}})).wants_log_tail


def test_scheduling_message_falls_back_to_warning_event():
    pod = kpod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}])
    seen = observe(pod, ["FailedScheduling: 0/1 nodes are available: 1 Insufficient memory."])
    assert "Insufficient memory" in seen.container["message"]
