"""The simulated cluster: store, clock, controllers and test controls, wired together.

A :class:`Cluster` is owned by one asyncio event loop thread; the HTTP
handlers and the :class:`~kubesim.handle.KubeSim` handle both call into it on
that thread only, so no locking is needed anywhere.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

from . import api, lifecycle
from .clock import VirtualClock
from .config import Config
from .errors import ApiError
from .events import EventRecorder
from .faults import FaultInjector
from .fs.manager import Filesystems
from .journal import Journal
from .kinds import namespace as ns_kind
from .kinds import pvc as pvc_kind
from .kinds.config import ConfigMapStrategy, SecretStrategy
from .kinds.misc import EventStrategy, NodeStrategy, node_object
from .kinds.namespace import NamespaceStrategy
from .kinds.networkpolicy import NetworkPolicyStrategy
from .kinds.pod import PodStrategy
from .kinds.pvc import PVCStrategy
from .kinds.service import Allocator, ServiceStrategy
from .kubelet import Kubelet
from .remotecommand import Sessions
from .resources import RESOURCES, Resource
from .scenarios import Rule
from .scheduler import Scheduler
from .store import Store
from .strategy import Strategy
from .userland import APPLETS, PROGRAMS

STRATEGIES = {"pods": PodStrategy, "services": ServiceStrategy,
              "persistentvolumeclaims": PVCStrategy, "secrets": SecretStrategy,
              "configmaps": ConfigMapStrategy, "events": EventStrategy,
              "namespaces": NamespaceStrategy, "nodes": NodeStrategy,
              "networkpolicies": NetworkPolicyStrategy}
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Cluster:
    """All state of one simulated single-node cluster."""

    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        cfg = self.config
        self.rng = random.Random(cfg.seed)
        self.clock = VirtualClock(cfg.clock, cfg.speed, cfg.start_time)
        self.store = Store(cfg.history_size)
        self.faults = FaultInjector()
        self.journal = Journal(cfg.journal_size)
        self.scenario_rules: list[Rule] = []
        # (namespace, pod, container or None, previous) -> (set_at, text)
        self.log_overrides: dict[tuple, tuple[float, str]] = {}
        self._strategies = {p: STRATEGIES.get(p, Strategy)(r) for p, r in RESOURCES.items()}
        self._changed = asyncio.Event()
        self.clock.add_listener(self.notify)
        self._init_controllers()
        self.bootstrap()

    def _init_controllers(self) -> None:
        self.events = EventRecorder(self, self.config.event_ttl)
        self.scheduler = Scheduler(self)
        self.kubelet = Kubelet(self)
        self.services = Allocator(self.config.service_cidr)
        self.fs = Filesystems(self, APPLETS, PROGRAMS)
        self.execs = Sessions()
        self._owners: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        self._orphan: set[str] = set()

    def strategy(self, resource: Resource) -> Strategy:
        """Behaviour hooks for a resource."""
        return self._strategies[resource.plural]

    def node_labels(self) -> dict:
        """Labels of the simulated node (for nodeSelector matching)."""
        return {"kubernetes.io/hostname": self.config.node_name, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64"}

    # -- lifecycle ---------------------------------------------------------------
    def bootstrap(self) -> None:
        """Create what every cluster has: namespaces, the node, the kubernetes Service."""
        for name in DEFAULT_NAMESPACES:
            api.create(self, RESOURCES["namespaces"], "", {"metadata": {"name": name}})
        node = node_object(self)
        node["metadata"].update(uid="00000000-0000-4000-8000-000000000001",
                                creationTimestamp=node["status"]["conditions"][0]
                                ["lastTransitionTime"])
        self.persist(RESOURCES["nodes"], node)
        api.create(self, RESOURCES["services"], "default", {
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver",
                                                          "provider": "kubernetes"}},
            "spec": {"clusterIP": str(self.services.network.network_address + 1),
                     "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}})

    def reset(self) -> None:
        """Back to a fresh cluster: objects, timers, faults, journal, scenarios, logs.

        The clock and the resourceVersion counter keep going (clients may hold old
        resourceVersions; they now get 410 Expired, as after an etcd restore).
        """
        self.kubelet.reset()
        self.execs.kill_all()
        self.fs.reset()
        self.store.clear()
        self.clock.clear_timers()
        self.faults.clear()
        self.journal.clear()
        self.scenario_rules.clear()
        self.log_overrides.clear()
        self._init_controllers()
        self.bootstrap()
        self.notify()

    # -- change notification (log follow) ----------------------------------------
    def notify(self) -> None:
        """Wake everything waiting in :meth:`wait_change`."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_change(self, timeout: float) -> None:
        """Sleep until the clock moves or an object changes (or ``timeout`` passes)."""
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    # -- writes used by every controller -----------------------------------------
    def persist(self, resource: Resource, obj: dict) -> None:
        """Store ``obj`` (create or update) and index its owner references."""
        self.store.put(resource, obj)
        meta = obj["metadata"]
        for ref in meta.get("ownerReferences") or []:
            if ref.get("uid"):
                self._owners[ref["uid"]].add((resource.plural, meta.get("namespace", ""),
                                              meta["name"]))
        self.notify()

    def remove(self, resource: Resource, obj: dict, orphan: bool = False) -> dict:
        """Remove ``obj`` for good (DELETED), then garbage-collect its dependents."""
        self.store.remove(resource, obj)
        meta = obj["metadata"]
        self.strategy(resource).after_delete(self, obj)
        uid = meta.get("uid", "")
        orphan = orphan or uid in self._orphan
        self._orphan.discard(uid)
        dependents = self._owners.pop(uid, set())
        if not orphan:
            self._collect(dependents, uid)
        if resource.plural == "pods":
            self.execs.container_stopped(meta.get("namespace", ""), meta["name"])
            self.fs.forget_pod(meta.get("namespace", ""), meta["name"])
            self.pod_finished(meta.get("namespace", ""))
        self.notify()
        return obj

    def _collect(self, dependents: set[tuple[str, str, str]], owner_uid: str) -> None:
        # A tiny garbage collector: background-delete objects owned by a removed owner.
        for plural, namespace, name in sorted(dependents):
            stored = self.store.get(plural, namespace, name)
            if stored is None:
                continue
            refs = stored.obj()["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == owner_uid for r in refs):
                continue
            try:
                api.delete(self, RESOURCES[plural], namespace, name,
                           {"propagationPolicy": "Background"})
            except ApiError:
                pass

    def on_terminating(self, resource: Resource, obj: dict, grace: float,
                       orphan: bool = False) -> None:
        """An object got a deletionTimestamp: start whatever finishes the deletion."""
        meta = obj["metadata"]
        if orphan:
            self._orphan.add(meta["uid"])
        if resource.plural == "pods":
            rt = self.kubelet.get(meta["namespace"], meta["name"])
            if rt is not None and grace > 0:
                lifecycle.terminate(self.kubelet, rt, grace)
            elif not meta.get("finalizers"):
                self.remove(resource, obj)
        elif resource.plural == "namespaces":
            ns_kind.start_termination(self, obj)
        elif resource.plural == "persistentvolumeclaims":
            pvc_kind.release_if_unused(self, meta["namespace"], meta["name"])

    def finish_pod_deletion(self, namespace: str, name: str) -> None:
        """The kubelet stopped every container: remove the pod (finalizers permitting)."""
        stored = self.store.get("pods", namespace, name)
        if stored is None:
            return
        pod = stored.obj()
        if pod["metadata"].get("finalizers"):
            pod["metadata"]["deletionGracePeriodSeconds"] = 0
            self.persist(RESOURCES["pods"], pod)
        else:
            self.remove(RESOURCES["pods"], pod)

    def pod_finished(self, namespace: str) -> None:
        """A pod terminated or vanished: let pvc-protection re-check claims."""
        for pvc in list(self.store.iter("persistentvolumeclaims", namespace)):
            if b'"deletionTimestamp"' in pvc.raw:
                pvc_kind.release_if_unused(self, namespace, pvc.name)

    # -- kubelet helpers -----------------------------------------------------------
    def _pod_spec(self, namespace: str, name: str) -> dict:
        stored = self.store.get("pods", namespace, name)
        return stored.obj().get("spec") or {} if stored else {}

    def _source_missing(self, namespace: str, kind: str, name: str, key: str | None) -> str | None:
        plural = "secrets" if kind == "Secret" else "configmaps"
        stored = self.store.get(plural, namespace, name)
        if stored is None:
            return f'{kind.lower()} "{name}" not found'
        if key is not None:
            obj = stored.obj()
            if key not in (obj.get("data") or {}) and key not in (obj.get("binaryData") or {}):
                return f"couldn't find key {key} in {kind} {namespace}/{name}"
        return None

    def missing_volume_sources(self, namespace: str, pod: str) -> tuple[str, str] | None:
        """First Secret/ConfigMap volume that cannot be mounted: ``(volume, message)``."""
        for volume in self._pod_spec(namespace, pod).get("volumes") or []:
            sources = [("Secret", volume.get("secret"), "secretName"),
                       ("ConfigMap", volume.get("configMap"), "name")]
            for projected in (volume.get("projected") or {}).get("sources") or []:
                sources += [("Secret", projected.get("secret"), "name"),
                            ("ConfigMap", projected.get("configMap"), "name")]
            for kind, source, field in sources:
                if source and not source.get("optional") and source.get(field):
                    problem = self._source_missing(namespace, kind, source[field], None)
                    if problem:
                        return volume.get("name", ""), problem
            problem = self.fs.mount_problem(namespace, volume)
            if problem:
                return volume.get("name", ""), problem
        return None

    def missing_env_sources(self, namespace: str, pod: str, container: str) -> str | None:
        """Why a container's env cannot be built (``CreateContainerConfigError``), if so."""
        spec = self._pod_spec(namespace, pod)
        every = (spec.get("initContainers") or []) + (spec.get("containers") or [])
        c = next((c for c in every if c.get("name") == container), {})
        for env in c.get("env") or []:
            value_from = env.get("valueFrom") or {}
            for kind, ref in (("Secret", value_from.get("secretKeyRef")),
                              ("ConfigMap", value_from.get("configMapKeyRef"))):
                if ref and not ref.get("optional"):
                    problem = self._source_missing(namespace, kind, ref.get("name", ""),
                                                   ref.get("key"))
                    if problem:
                        return problem
        for env_from in c.get("envFrom") or []:
            for kind, ref in (("Secret", env_from.get("secretRef")),
                              ("ConfigMap", env_from.get("configMapRef"))):
                if ref and not ref.get("optional"):
                    problem = self._source_missing(namespace, kind, ref.get("name", ""), None)
                    if problem:
                        return problem
        return None
