"""A one-node scheduler: resource fit, node selector, PVC and scenario checks.

Unschedulable pods get ``PodScheduled=False/Unschedulable`` and a
``FailedScheduling`` Warning whose message has the real scheduler's shape
(``0/1 nodes are available: 1 Insufficient cpu. preemption: …``).  They are
retried when capacity frees up, when a PVC binds, and every five minutes
(``podMaxInUnschedulablePodsDuration``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from .podstate import PodRuntime

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

RETRY_INTERVAL = 300.0
_NOT_HELPFUL = "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
_NO_VICTIMS = "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."


class Scheduler:
    """Places pods on the single simulated node."""

    def __init__(self, cluster: "Cluster"):
        self.cluster = cluster
        self.cpu_used = 0.0
        self.memory_used = 0.0
        self.pods_used = 0
        self.pending: OrderedDict[tuple[str, str], PodRuntime] = OrderedDict()
        self._retry_timer = None
        self._periodic_timer = None

    def reset(self) -> None:
        """Forget usage and the unschedulable queue."""
        self.__init__(self.cluster)

    def _failure(self, rt: PodRuntime, pod: dict) -> str | None:
        """Why the pod cannot be placed right now, or ``None`` if it fits."""
        cfg = self.cluster.config
        spec = pod["spec"]
        if any(c.scenario.unschedulable for c in rt.all_containers):
            return ("0/1 nodes are available: 1 node(s) had untolerated taint "
                    "{kubesim.io/unschedulable: }. " + _NOT_HELPFUL)
        selector = spec.get("nodeSelector") or {}
        if any(self.cluster.node_labels().get(k) != v for k, v in selector.items()) or \
                spec.get("nodeName") not in (None, "", cfg.node_name):
            return ("0/1 nodes are available: 1 node(s) didn't match Pod's node "
                    "affinity/selector. " + _NOT_HELPFUL)
        for volume in spec.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            stored = self.cluster.store.get("persistentvolumeclaims", rt.namespace, claim)
            if stored is None:
                return (f'0/1 nodes are available: persistentvolumeclaim "{claim}" not found. '
                        + _NOT_HELPFUL)
            pvc = stored.obj()
            if (pvc.get("status") or {}).get("phase") != "Bound":
                return ("0/1 nodes are available: pod has unbound immediate "
                        "PersistentVolumeClaims. " + _NOT_HELPFUL)
            if "ReadWriteOncePod" in ((pvc.get("spec") or {}).get("accessModes") or []) and \
                    self._claim_in_use(rt, claim):
                return ("0/1 nodes are available: 1 node has pod using PersistentVolumeClaim "
                        "with the same name and ReadWriteOncePod access mode. "
                        + _NOT_HELPFUL)
        reasons = []
        if rt.cpu > cfg.node_cpu - self.cpu_used + 1e-9:
            reasons.append("1 Insufficient cpu")
        if rt.memory > cfg.node_memory - self.memory_used + 1e-3:
            reasons.append("1 Insufficient memory")
        if self.pods_used + 1 > cfg.node_pods:
            reasons.append("1 Too many pods")
        if reasons:
            return f"0/1 nodes are available: {', '.join(reasons)}. " + _NO_VICTIMS
        return None

    def _claim_in_use(self, rt: PodRuntime, claim: str) -> bool:
        """Whether another placed, non-terminated pod mounts ``claim`` (ReadWriteOncePod)."""
        for other in self.cluster.kubelet.pods.values():
            if other is rt or other.namespace != rt.namespace or not other.node or \
                    other.released:
                continue
            stored = self.cluster.store.get("pods", other.namespace, other.name)
            if stored is None:
                continue
            for volume in (stored.obj().get("spec") or {}).get("volumes") or []:
                if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim:
                    return True
        return False

    def attempt(self, rt: PodRuntime) -> bool:
        """Try to bind ``rt``; on failure record the condition and event."""
        if rt.node or rt.terminating:
            return True
        stored = self.cluster.store.get("pods", rt.namespace, rt.name)
        if stored is None:
            self.pending.pop((rt.namespace, rt.name), None)
            return True
        pod = stored.obj()
        problem = self._failure(rt, pod)
        now = self.cluster.clock.now()
        if problem:
            self.pending[(rt.namespace, rt.name)] = rt
            rt.set_condition("PodScheduled", False, now, "Unschedulable", problem)
            kubelet = self.cluster.kubelet
            kubelet.write(rt)
            kubelet.event(rt, "Warning", "FailedScheduling", problem,
                          component="default-scheduler")
            if self._periodic_timer is None:
                self._periodic_timer = self.cluster.clock.call_later(RETRY_INTERVAL,
                                                                     self._periodic)
            return False
        self.pending.pop((rt.namespace, rt.name), None)
        self.cpu_used += rt.cpu
        self.memory_used += rt.memory
        self.pods_used += 1
        rt.node = self.cluster.config.node_name
        rt.set_condition("PodScheduled", True, now)
        self.cluster.kubelet.bind(rt)
        return True

    def release(self, rt: PodRuntime) -> None:
        """Give the pod's resources back (terminal or removed) and retry pending pods."""
        if not rt.node or rt.released:
            return
        rt.released = True
        self.cpu_used -= rt.cpu
        self.memory_used -= rt.memory
        self.pods_used -= 1
        self.kick()

    def forget(self, rt: PodRuntime) -> None:
        """Drop a deleted pod from the queue."""
        self.pending.pop((rt.namespace, rt.name), None)

    def kick(self) -> None:
        """Retry unschedulable pods soon (debounced to one pass per instant)."""
        if self.pending and self._retry_timer is None:
            self._retry_timer = self.cluster.clock.call_later(0, self._retry)

    def _retry(self) -> None:
        self._retry_timer = None
        for rt in list(self.pending.values()):
            self.attempt(rt)

    def _periodic(self) -> None:
        self._periodic_timer = None
        self._retry()
