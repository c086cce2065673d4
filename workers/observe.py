"""What a Kubernetes pod's state means for our pod: pure functions over the raw JSON.

Maps phase, conditions and container state (plus recent Warning events) to one of our statuses
and a ``status_container`` whose message a researcher can act on.
"""
import re
from dataclasses import dataclass, field

from pods.choices import PodStatus

IMAGE_PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
CONFIG_ERROR_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
STARTING_REASONS = frozenset({"ContainerCreating", "PodInitializing"})
PULL_HINT = ("Check the image name and tag, that the image exists in its registry, and that it is public "
             "(or that the pod has credentials for a private registry).")


def unschedulable_explanation(why: str) -> str:
    """What the scheduler's message means for the user, and what they can do about it."""
    text = why.lower()
    causes = []
    if "insufficient" in text or "too many pods" in text:
        asked = sorted({w.split()[-1].rstrip(".,") for w in re.findall(r"insufficient [\w./-]+", text)})
        what = f" ({', '.join(asked)})" if asked else ""
        causes.append(f"no node has enough free resources{what}; lower resources.cpu_request/mem_request or "
                      "wait for other pods to stop")
    if "taint" in text:
        causes.append("the nodes carry taints the pod does not tolerate (ask an operator about the compute "
                      "queue's tolerations)")
    if "affinity" in text or "selector" in text:
        causes.append("no node matches the pod's node selector (check compute_queue)")
    if not causes:
        causes.append("the scheduler has found no node for the pod yet")
    return "; ".join(causes)



@dataclass
class Observation:
    """``status`` None means the pod is in transition (e.g. terminating): leave the status be."""

    status: str | None
    container: dict = field(default_factory=dict)
    wants_log_tail: bool = False


def _terminated_message(term: dict, image: str) -> str:
    reason = term.get("reason") or "Error"
    code = term.get("exitCode")
    if reason == "OOMKilled":
        return (f"The container ran out of memory and was killed (OOMKilled, exit code {code}). "
                "Raise resources.mem_limit or reduce the program's memory use.")
    if reason == "Completed" or code == 0:
        return f"The container finished (exit code {code})."
    detail = f": {term['message']}" if term.get("message") else ""
    return f"The container of image '{image}' exited with an error ({reason}, exit code {code}){detail}."


# --- Health checks (parity2) --------------------------------------------------------------------

ROUTE_UNREADY = "pods-service/route-unready"  # workers.kube.manifests.ANNOTATION_ROUTE_UNREADY


def _routes_unready(meta: dict) -> bool:
    return (meta.get("annotations") or {}).get(ROUTE_UNREADY) == "true"


def _probe_failure(warnings) -> str:
    """The last probe failure the kubelet reported (``Unhealthy: Readiness probe failed: …``)."""
    for warning in reversed(warnings or []):
        if warning.startswith("Unhealthy: "):
            return warning[len("Unhealthy: "):]
    return ""


def _not_ready_message(warnings) -> str:
    failure = _probe_failure(warnings)
    if failure:
        return f"The container is running but not ready: {failure}"
    return "The container is running; waiting for its readiness probe to pass."


def observe(kpod: dict, warnings: list[str] | None = None) -> Observation:
    """Our view of one Kubernetes pod."""
    meta, status = kpod.get("metadata", {}), kpod.get("status", {}) or {}
    phase = status.get("phase", "Pending")
    base = {"phase": phase, "start_time": status.get("startTime")}
    containers = status.get("containerStatuses") or []
    cs = containers[0] if containers else None
    image = (kpod.get("spec", {}).get("containers") or [{}])[0].get("image", "")

    if meta.get("deletionTimestamp"):
        return Observation(None, {**base, "phase": "Terminating", "message": "The pod is shutting down."})
    if phase == "Succeeded":
        term = ((cs or {}).get("state") or {}).get("terminated") or {"exitCode": 0, "reason": "Completed"}
        return Observation(PodStatus.COMPLETE, {**base, "message": _terminated_message(term, image)})

    state = (cs or {}).get("state") or {}
    if phase == "Failed" or state.get("terminated"):
        term = state.get("terminated") or ((cs or {}).get("lastState") or {}).get("terminated") or {}
        if not term:
            message = status.get("message") or f"The pod failed ({status.get('reason') or 'unknown reason'})."
            return Observation(PodStatus.ERROR, {**base, "message": message})
        if term.get("exitCode") == 0 and phase != "Failed":
            return Observation(PodStatus.COMPLETE, {**base, "message": _terminated_message(term, image)})
        message = _terminated_message(term, image)
        failure = _probe_failure(warnings)
        if failure and ("Liveness" in failure or "Startup" in failure):
            message = f"{message} The kubelet killed it: {failure}"
        return Observation(PodStatus.ERROR, {**base, "message": message,
                                             "reason": term.get("reason"), "exit_code": term.get("exitCode")},
                           wants_log_tail=True)

    waiting = state.get("waiting")
    if waiting:
        reason, detail = waiting.get("reason", ""), waiting.get("message", "")
        if reason in IMAGE_PULL_REASONS:
            message = f"Image '{image}' could not be pulled ({reason})" + (f": {detail}" if detail else "")
            message = message.rstrip(". ") + ". " + PULL_HINT
            return Observation(PodStatus.ERROR, {**base, "message": message, "reason": reason})
        if reason == "CrashLoopBackOff":
            term = ((cs or {}).get("lastState") or {}).get("terminated") or {}
            message = _terminated_message(term, image) if term else f"The container keeps crashing: {detail}"
            return Observation(PodStatus.ERROR, {**base, "message": message, "reason": reason,
                                                 "restart_count": cs.get("restartCount", 0)}, wants_log_tail=True)
        if reason in CONFIG_ERROR_REASONS:
            return Observation(PodStatus.ERROR, {**base, "message": f"The container could not start ({reason}): {detail}",
                                                 "reason": reason})
        return Observation(PodStatus.CREATING, {**base, "message": "The pod is starting (pulling the image and "
                                                                   "creating the container)."})
    if state.get("running"):
        if not cs.get("ready") and not _routes_unready(meta):
            return Observation(PodStatus.CREATING, {
                **base, "message": _not_ready_message(warnings), "ready": False,
                "restart_count": cs.get("restartCount", 0), "started_at": state["running"].get("startedAt")})
        return Observation(PodStatus.AVAILABLE, {
            **base, "message": "The pod is running.", "ready": bool(cs.get("ready")),
            "restart_count": cs.get("restartCount", 0), "started_at": state["running"].get("startedAt"),
        })

    # Pending with no container yet: scheduling.
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            why = condition.get("message") or (warnings[-1] if warnings else "") or condition.get("reason", "")
            return Observation(PodStatus.CREATING, {
                **base, "message": f"Waiting for a node: {unschedulable_explanation(why)} (Kubernetes: {why})",
                "reason": condition.get("reason", "Unschedulable")})
    if warnings:
        return Observation(PodStatus.CREATING, {**base, "message": f"The pod is waiting: {warnings[-1]}"})
    return Observation(PodStatus.CREATING, {**base, "message": "The pod is being scheduled."})
