"""Pods: defaulting, validation, update rules, graceful delete, ``kubectl get`` row."""

from __future__ import annotations

import copy

from ..clock import parse_time
from ..errors import FieldError
from ..quantity import parse_quantity
from ..strategy import Strategy
from ..tables import column, human_duration, since
from . import podvalidation

_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
]
MUTABLE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)")


def _default_container(c: dict) -> None:
    image = c.get("image") or ""
    tagless = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
    c.setdefault("imagePullPolicy",
                 "Always" if tagless or image.endswith(":latest") else "IfNotPresent")
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    resources = c.setdefault("resources", {})
    limits = resources.get("limits") or {}
    if limits:
        requests = resources.setdefault("requests", {})
        for key, value in limits.items():
            requests.setdefault(key, value)
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")


def qos_class(spec: dict) -> str:
    """BestEffort / Burstable / Guaranteed, as ``GetPodQOS`` computes it."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for key in ("cpu", "memory"):
            if key not in lim or key not in req or \
                    parse_quantity(req[key]) != parse_quantity(lim[key]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


class PodStrategy(Strategy):
    """Pod semantics (``pkg/registry/core/pod/strategy.go``)."""

    def prepare_create(self, cluster, obj):
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("securityContext", {})
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        tolerations = spec.setdefault("tolerations", [])
        for default in _TOLERATIONS:
            if not any(t.get("key") == default["key"] for t in tolerations):
                tolerations.append(dict(default))
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or []:
                if isinstance(c, dict):
                    _default_container(c)
        obj["status"] = {"phase": "Pending"}
        try:
            obj["status"]["qosClass"] = qos_class(spec)
        except (ValueError, AttributeError):
            obj["status"]["qosClass"] = "BestEffort"  # validation reports the bad quantity

    def validate(self, cluster, obj):
        return super().validate(cluster, obj) + podvalidation.validate_spec(obj.get("spec"))

    def validate_update(self, cluster, new, old):
        old_spec, new_spec = old.get("spec") or {}, copy.deepcopy(new.get("spec") or {})
        for key in ("containers", "initContainers"):
            olds, news = old_spec.get(key) or [], new_spec.get(key) or []
            if len(olds) == len(news):
                for o, n in zip(olds, news):
                    if isinstance(n, dict):
                        n["image"] = o.get("image")
        for key in ("activeDeadlineSeconds", "terminationGracePeriodSeconds"):
            if key in old_spec:
                new_spec[key] = old_spec[key]
            else:
                new_spec.pop(key, None)
        old_tol = old_spec.get("tolerations") or []
        if all(t in (new_spec.get("tolerations") or []) for t in old_tol):
            new_spec["tolerations"] = old_tol
        if new_spec != old_spec:
            return [FieldError("Forbidden", "spec", detail=MUTABLE_MESSAGE)]
        return []

    def after_create(self, cluster, obj):
        cluster.kubelet.track(obj)

    def after_delete(self, cluster, obj):
        meta = obj["metadata"]
        cluster.kubelet.forget(meta["namespace"], meta["name"])

    def grace_period(self, cluster, obj, requested):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        grace = requested if requested is not None else spec.get("terminationGracePeriodSeconds",
                                                                 30)
        if grace < 0:
            grace = 1
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            grace = 0
        return grace

    def table(self, cluster, obj):
        return COLUMNS, pod_cells(cluster, obj)


COLUMNS = [column("Name", fmt="name"), column("Ready"), column("Status"), column("Restarts"),
           column("Age"), column("IP", priority=1), column("Node", priority=1),
           column("Nominated Node", priority=1), column("Readiness Gates", priority=1)]


def pod_cells(cluster, pod: dict) -> list:
    """``kubectl get pods`` cells, following ``printPod`` in kubernetes/pkg/printers."""
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or ""
    restarts, ready, has_running = 0, 0, False
    last_restart = 0.0
    initializing = False
    inits = status.get("initContainerStatuses") or []
    for i, cs in enumerate(inits):
        restarts += cs.get("restartCount", 0)
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting") or {}
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = "Init:" + (term.get("reason") or f"ExitCode:{term.get('exitCode')}")
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in status.get("conditions") or [])
    statuses = [] if initializing and not initialized else status.get("containerStatuses") or []
    for cs in reversed(statuses):
        restarts += cs.get("restartCount", 0)
        last = (cs.get("lastState") or {}).get("terminated")
        if last and last.get("finishedAt"):
            last_restart = max(last_restart, parse_time(last["finishedAt"]))
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated"):
            term = state["terminated"]
            reason = term.get("reason") or (f"Signal:{term['signal']}" if term.get("signal")
                                            else f"ExitCode:{term.get('exitCode')}")
        elif cs.get("ready") and state.get("running"):
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        ready_cond = any(c.get("type") == "Ready" and c.get("status") == "True"
                         for c in status.get("conditions") or [])
        reason = "Running" if ready_cond else "NotReady"
    if meta.get("deletionTimestamp") and status.get("phase") not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_cell = str(restarts)
    if restarts and last_restart:
        restarts_cell = f"{restarts} ({since_epoch(cluster, last_restart)} ago)"
    pod_ip = ((status.get("podIPs") or [{}])[0]).get("ip") or "<none>"
    return [meta["name"], f"{ready}/{len(spec.get('containers') or [])}", reason, restarts_cell,
            since(cluster, meta.get("creationTimestamp")), pod_ip,
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>",
            "<none>"]


def since_epoch(cluster, ts: float) -> str:
    """Age of an epoch timestamp."""
    return human_duration(cluster.clock.now() - ts)

