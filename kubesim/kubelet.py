"""Simulated kubelet: pod admission, sandbox, init containers and container start.

Timeline of a ``happy`` container (virtual seconds after binding)::

    0    Scheduled event, Pending, containers waiting ContainerCreating
    0.5  sandbox ready: podIP, PodReadyToStartContainers=True, Pulling event
    2    Pulled / Created / Started events, Running, Ready=True

Image pulls live in :mod:`kubesim.images`, probes in :mod:`kubesim.probes`; exits,
restarts with CrashLoopBackOff, graceful termination and activeDeadlineSeconds in
:mod:`kubesim.lifecycle`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from . import lifecycle
from .images import begin_pull
from .podstate import ContainerRuntime, Instance, PodRuntime, build_status, container_id
from .probes import arm_probes, probe_delay
from .quantity import parse_quantity
from .resources import RESOURCES
from .scenarios import resolve

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

PODS = RESOURCES["pods"]
SANDBOX_SECONDS = 0.5
INIT_RUN_SECONDS = 1.0

def pod_requests(spec: dict) -> tuple[float, float]:
    """(cpu cores, memory bytes) the scheduler accounts for a pod spec."""
    def total(containers):
        cpu = mem = 0.0
        for c in containers or []:
            req = (c.get("resources") or {}).get("requests") or {}
            cpu += parse_quantity(req.get("cpu", 0))
            mem += parse_quantity(req.get("memory", 0))
        return cpu, mem
    cpu, mem = total(spec.get("containers"))
    for init in spec.get("initContainers") or []:
        icpu, imem = total([init])
        cpu, mem = max(cpu, icpu), max(mem, imem)
    return cpu, mem


class Kubelet:
    """Owns every :class:`PodRuntime` and moves pods through their lifecycle."""

    def __init__(self, cluster: "Cluster"):
        self.cluster = cluster
        self.pods: dict[tuple[str, str], PodRuntime] = {}
        self.images: set[str] = set()
        network = ipaddress.ip_network(cluster.config.pod_cidr)
        self._ip_base = int(network.network_address)
        self._ip_size = network.num_addresses
        self._ip_next = 2
        self._ips_used: set[int] = set()

    def reset(self) -> None:
        """Forget every pod and the image cache."""
        for rt in self.pods.values():
            rt.cancel_timers()
        self.__init__(self.cluster)

    # -- bookkeeping -------------------------------------------------------
    def track(self, pod: dict) -> PodRuntime:
        """Start simulating a newly created pod (queue it for scheduling)."""
        meta, spec = pod["metadata"], pod["spec"]
        annotations = meta.get("annotations") or {}
        rules = self.cluster.scenario_rules
        containers, inits = [], []
        for key, target in (("initContainers", inits), ("containers", containers)):
            for c in spec.get(key) or []:
                scenario = resolve(rules, meta["namespace"], meta["name"], annotations,
                                   c["name"], c.get("image", ""))
                if key == "initContainers" and scenario.run_seconds is None:
                    # An init container's process is expected to finish; "happy" ones do.
                    scenario = replace(scenario, run_seconds=INIT_RUN_SECONDS)
                runtime = ContainerRuntime(c["name"], c.get("image", ""), scenario,
                                           c.get("imagePullPolicy", "IfNotPresent"),
                                           init=key == "initContainers")
                runtime.startup_delay = probe_delay(c.get("startupProbe"))
                runtime.readiness_delay = probe_delay(c.get("readinessProbe"))
                runtime.probes = {kind: c.get(f"{kind}Probe") for kind in ("startup", "readiness", "liveness")
                                  if c.get(f"{kind}Probe")}
                runtime.ports = frozenset(int(p["containerPort"]) for p in c.get("ports") or []
                                          if p.get("containerPort"))
                runtime.probe_overrides = {kind: annotations[f"kubesim.io/probe.{kind}"]
                                           for kind in ("startup", "readiness", "liveness")
                                           if f"kubesim.io/probe.{kind}" in annotations}
                target.append(runtime)
        rt = PodRuntime(meta["namespace"], meta["name"], meta["uid"],
                        spec.get("restartPolicy", "Always"), containers,
                        pod["status"].get("qosClass", "BestEffort"), init_containers=inits)
        if inits:
            # kubelet's default waiting reason for every container of a pod with init
            # containers (kubectl shows Init:N/M, then PodInitializing).
            for runtime in inits + containers:
                runtime.waiting_reason = "PodInitializing"
        rt.cpu, rt.memory = pod_requests(spec)
        self.pods[(rt.namespace, rt.name)] = rt
        self.later(rt, 0, lambda: self.cluster.scheduler.attempt(rt))
        return rt

    def get(self, namespace: str, name: str) -> PodRuntime | None:
        """Runtime of a pod, if it is being simulated."""
        return self.pods.get((namespace, name))

    def forget(self, namespace: str, name: str) -> None:
        """The pod object is gone: stop timers, free its IP and node resources."""
        rt = self.pods.pop((namespace, name), None)
        if rt is None:
            return
        rt.cancel_timers()
        self.cluster.scheduler.forget(rt)
        self.cluster.scheduler.release(rt)
        if rt.pod_ip:
            self._ips_used.discard(int(ipaddress.ip_address(rt.pod_ip)))

    def later(self, rt: PodRuntime, delay: float, callback) -> None:
        """Schedule a lifecycle step for ``rt`` (cancelled if the pod goes away)."""
        rt.timers = [t for t in rt.timers if not t.cancelled and t.due >= self.cluster.clock.now()]
        rt.timers.append(self.cluster.clock.call_later(delay, callback))

    def write(self, rt: PodRuntime) -> None:
        """Persist the status rendered from ``rt`` (skipped when nothing changed)."""
        stored = self.cluster.store.get("pods", rt.namespace, rt.name)
        if stored is None:
            return
        pod = stored.obj()
        before = (pod.get("status"), pod["spec"].get("nodeName"))
        if rt.node:
            pod["spec"]["nodeName"] = rt.node
        pod["status"] = build_status(rt, self.cluster.clock.now())
        if (pod["status"], pod["spec"].get("nodeName")) == before:
            return
        self.cluster.persist(PODS, pod)
        if pod["status"]["phase"] in ("Succeeded", "Failed"):
            rt.terminal_phase = pod["status"]["phase"]
            self.cluster.scheduler.release(rt)
            self.cluster.pod_finished(rt.namespace)

    def event(self, rt: PodRuntime, type_: str, reason: str, message: str,
              container: str | None = None, component: str = "kubelet") -> None:
        """Record an Event about the pod (or one of its containers)."""
        stored = self.cluster.store.get("pods", rt.namespace, rt.name)
        involved = {"metadata": {"name": rt.name, "namespace": rt.namespace, "uid": rt.uid,
                                 "resourceVersion": str(stored.rv) if stored else ""}}
        runtime = rt.container(container) if container else None
        path = runtime.field_path if runtime else ""
        self.cluster.events.record(involved, "Pod", type_, reason, message, component, path)

    def _allocate_ip(self) -> str:
        for _ in range(self._ip_size):
            candidate = self._ip_next
            self._ip_next = self._ip_next + 1 if self._ip_next + 2 < self._ip_size else 2
            if self._ip_base + candidate not in self._ips_used:
                self._ips_used.add(self._ip_base + candidate)
                return str(ipaddress.ip_address(self._ip_base + candidate))
        raise RuntimeError("pod CIDR exhausted")

    # -- admission ---------------------------------------------------------
    def bind(self, rt: PodRuntime) -> None:
        """Called by the scheduler once the pod is placed on the node."""
        cfg = self.cluster.config
        now = self.cluster.clock.now()
        rt.host_ip = cfg.host_ip
        rt.start_time = now
        self.event(rt, "Normal", "Scheduled",
                   f"Successfully assigned {rt.namespace}/{rt.name} to {rt.node}",
                   component="default-scheduler")
        self.write(rt)
        pod = self.cluster.store.get("pods", rt.namespace, rt.name).obj()
        deadline = pod["spec"].get("activeDeadlineSeconds")
        if deadline:
            self.later(rt, float(deadline), lambda: lifecycle.deadline_exceeded(self, rt))
        self.later(rt, min(SANDBOX_SECONDS, min(c.scenario.start_seconds
                                                for c in rt.all_containers) / 2),
                   lambda: self._sandbox(rt, 1.0))

    def _sandbox(self, rt: PodRuntime, backoff: float) -> None:
        missing = self.cluster.missing_volume_sources(rt.namespace, rt.name)
        if missing:
            volume, message = missing
            self.event(rt, "Warning", "FailedMount",
                       f'MountVolume.SetUp failed for volume "{volume}" : {message}')
            self.later(rt, backoff, lambda: self._sandbox(rt, min(backoff * 2, 120.0)))
            return
        rt.sandbox_ready = True
        rt.pod_ip = self._allocate_ip()
        elapsed = self.cluster.clock.now() - rt.start_time
        first = rt.init_containers[:1] or rt.containers
        for c in first:
            begin_pull(self, rt, c, max(0.0, c.scenario.start_seconds - elapsed))
        self.write(rt)

    def init_finished(self, rt: PodRuntime, c: ContainerRuntime) -> None:
        """An init container completed: start the next one, or the regular containers."""
        index = rt.init_containers.index(c)
        if index + 1 < len(rt.init_containers):
            nxt = rt.init_containers[index + 1]
            begin_pull(self, rt, nxt, nxt.scenario.start_seconds)
            return
        for main in rt.containers:
            begin_pull(self, rt, main, main.scenario.start_seconds)
        self.write(rt)

    def run_instance(self, rt: PodRuntime, c: ContainerRuntime) -> None:
        """Create and start a new instance of ``c`` (first start or restart)."""
        now = self.cluster.clock.now()
        self.event(rt, "Normal", "Created", f"Created container: {c.name}", c.name)
        self.event(rt, "Normal", "Started", f"Started container {c.name}", c.name)
        c.instances.append(Instance(now, container_id(rt.uid, c.name, c.restart_count)))
        self.cluster.fs.container_started(rt.namespace, rt.name, c.name)
        del c.instances[:-2]  # logs only ever need the current and previous instance
        c.state, c.waiting_reason, c.waiting_message = "running", "", ""
        arm_probes(self, rt, c)
        self.write(rt)
        if c.scenario.run_seconds is not None:
            self.later(rt, c.scenario.run_seconds, lambda: lifecycle.container_exited(
                self, rt, c, c.scenario.exit_code, c.scenario.exit_reason))

