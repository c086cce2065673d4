"""Simulated runtime state of pods and containers, and the ``PodStatus`` built from it.

The kubelet mutates :class:`PodRuntime` / :class:`ContainerRuntime` and then
calls :func:`build_status`, which renders the API ``status`` the way kubelet's
``generateAPIPodStatus`` does (phase rules from ``getPhase``, condition
ordering, ``lastState`` handling).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .clock import format_time
from .images import image_id, normalize_image
from .scenarios import Scenario


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Instance:
    """One run of a container (restarts create new instances); used for logs."""

    started: float
    container_id: str
    finished: float | None = None
    exit_code: int | None = None
    reason: str = ""


@dataclass
class ContainerRuntime:
    """What the fake container runtime knows about one container."""

    name: str
    image: str
    scenario: Scenario
    pull_policy: str = "IfNotPresent"
    init: bool = False                # an init container (runs to completion, in order)
    state: str = "waiting"            # waiting | running | terminated
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    restart_count: int = 0
    instances: list[Instance] = field(default_factory=list)
    last_terminated: dict | None = None
    backoff: float = 0.0
    pull_failures: int = 0
    # Seconds after start until the startup / readiness probes first pass (None: no probe).
    startup_delay: float | None = None
    readiness_delay: float | None = None
    started_ok: bool = False
    ready_ok: bool = False
    # The container's probes (startup/readiness/liveness -> probe), the ports it declares (what
    # it listens on) and per-probe outcomes forced by annotation (see kubesim.probes).
    probes: dict = field(default_factory=dict)
    ports: frozenset = frozenset()
    probe_overrides: dict = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """Terminated with exit code 0 (an init container that did its job)."""
        return self.state == "terminated" and self.current.exit_code == 0

    @property
    def ready(self) -> bool:
        """Running, started and passing readiness; init containers: completed."""
        if self.init:
            return self.succeeded
        return self.state == "running" and self.started_ok and self.ready_ok

    @property
    def field_path(self) -> str:
        """``involvedObject.fieldPath`` of events about this container."""
        return f"spec.{'initContainers' if self.init else 'containers'}{{{self.name}}}"

    @property
    def current(self) -> Instance | None:
        """The latest instance, if the container ever started."""
        return self.instances[-1] if self.instances else None

    def terminated_state(self, inst: Instance) -> dict:
        """API ``state.terminated`` for an instance."""
        return {"terminated": {"exitCode": inst.exit_code, "reason": inst.reason,
                               "startedAt": format_time(inst.started),
                               "finishedAt": format_time(inst.finished),
                               "containerID": inst.container_id}}

    def status(self) -> dict:
        """API ``containerStatuses[]`` entry (all fields the v37 client requires)."""
        running = self.state == "running"
        inst = self.current
        if running:
            state = {"running": {"startedAt": format_time(inst.started)}}
        elif self.state == "terminated":
            state = self.terminated_state(inst)
        else:
            waiting = {"reason": self.waiting_reason}
            if self.waiting_message:
                waiting["message"] = self.waiting_message
            state = {"waiting": waiting}
        status = {"name": self.name, "state": state,
                  "lastState": self.last_terminated or {}, "ready": self.ready,
                  "restartCount": self.restart_count, "image": normalize_image(self.image)
                  if inst else self.image, "imageID": image_id(self.image) if inst else "",
                  "started": running and self.started_ok}
        if inst is not None:
            status["containerID"] = inst.container_id
        return status


@dataclass
class PodRuntime:
    """Kubelet-side bookkeeping for one pod."""

    namespace: str
    name: str
    uid: str
    restart_policy: str
    containers: list[ContainerRuntime]
    qos_class: str
    init_containers: list[ContainerRuntime] = field(default_factory=list)
    node: str = ""
    host_ip: str = ""
    pod_ip: str = ""
    start_time: float | None = None
    sandbox_ready: bool = False
    terminating: bool = False
    term_started: float | None = None
    released: bool = False            # node resources given back to the scheduler
    cpu: float = 0.0                  # summed requests, for scheduling
    memory: float = 0.0
    terminal_phase: str = ""          # Succeeded/Failed once latched
    reason: str = ""                  # pod-level status.reason (DeadlineExceeded)
    message: str = ""
    conditions: dict[str, list] = field(default_factory=dict)
    timers: list = field(default_factory=list)

    @property
    def all_containers(self) -> list[ContainerRuntime]:
        """Init containers followed by regular containers."""
        return self.init_containers + self.containers

    @property
    def initialized(self) -> bool:
        """Every init container completed successfully."""
        return all(c.succeeded for c in self.init_containers)

    def container(self, name: str) -> ContainerRuntime | None:
        """Container runtime (regular or init) by name."""
        return next((c for c in self.all_containers if c.name == name), None)

    def set_condition(self, ctype: str, status: bool, now: float, reason: str = "",
                      message: str = "") -> None:
        """Record a condition; lastTransitionTime only moves when the status flips."""
        value = "True" if status else "False"
        old = self.conditions.get(ctype)
        since = old[1] if old and old[0] == value else now
        self.conditions[ctype] = [value, since, reason, message]

    def cancel_timers(self) -> None:
        """Cancel every pending lifecycle timer of this pod."""
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


def compute_phase(pod: PodRuntime) -> str:
    """Kubelet ``getPhase`` for regular containers."""
    if pod.terminal_phase:
        return pod.terminal_phase
    if not pod.node:
        return "Pending"
    if not pod.initialized:
        failed = any(c.state == "terminated" and not c.succeeded for c in pod.init_containers)
        if failed and pod.restart_policy == "Never":
            return "Failed"
        return "Failed" if pod.terminating and failed else "Pending"
    running = waiting = stopped = succeeded = 0
    for c in pod.containers:
        if c.state == "running":
            running += 1
        elif c.state == "terminated":
            stopped += 1
            succeeded += c.current.exit_code == 0
        elif c.last_terminated:
            stopped += 1
            succeeded += c.last_terminated["terminated"]["exitCode"] == 0
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if pod.terminating:
        return "Succeeded" if stopped == succeeded else "Failed"
    if pod.restart_policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    return "Failed" if pod.restart_policy == "Never" else "Running"


_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def build_status(pod: PodRuntime, now: float) -> dict:
    """Render ``status`` for the pod as the kubelet (and scheduler) would report it."""
    phase = compute_phase(pod)
    status: dict = {"phase": phase}
    if pod.node:
        unready = [c.name for c in pod.containers if not c.ready]
        terminal = phase in ("Succeeded", "Failed")
        if terminal:
            reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
            pod.set_condition("PodReadyToStartContainers", False, now)
            if pod.initialized:
                pod.set_condition("Initialized", True, now,
                                  "PodCompleted" if phase == "Succeeded" else "")
            else:
                pod.set_condition("Initialized", False, now, "ContainersNotInitialized",
                                  "containers with incomplete status: [" + " ".join(
                                      c.name for c in pod.init_containers if not c.succeeded)
                                  + "]")
            pod.set_condition("Ready", False, now, reason)
            pod.set_condition("ContainersReady", False, now, reason)
        else:
            pod.set_condition("PodReadyToStartContainers", pod.sandbox_ready, now)
            pending = [c.name for c in pod.init_containers if not c.succeeded]
            pod.set_condition("Initialized", not pending, now,
                              "ContainersNotInitialized" if pending else "",
                              f"containers with incomplete status: [{' '.join(pending)}]"
                              if pending else "")
            message = f"containers with unready status: [{' '.join(unready)}]" if unready else ""
            for ctype in ("Ready", "ContainersReady"):
                pod.set_condition(ctype, not unready, now,
                                  "ContainersNotReady" if unready else "", message)
    conditions = []
    for ctype in _ORDER:
        if ctype not in pod.conditions:
            continue
        value, since, reason, message = pod.conditions[ctype]
        cond = {"type": ctype, "status": value, "lastProbeTime": None,
                "lastTransitionTime": format_time(since)}
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        conditions.append(cond)
    if conditions:
        status["conditions"] = conditions
    if pod.reason:
        status["reason"] = pod.reason
        status["message"] = pod.message
    if pod.node:
        status["hostIP"] = pod.host_ip
        status["hostIPs"] = [{"ip": pod.host_ip}]
        if pod.pod_ip:
            status["podIP"] = pod.pod_ip
            status["podIPs"] = [{"ip": pod.pod_ip}]
        if pod.start_time is not None:
            status["startTime"] = format_time(pod.start_time)
        if pod.init_containers:
            status["initContainerStatuses"] = [c.status() for c in pod.init_containers]
        status["containerStatuses"] = [c.status() for c in pod.containers]
    status["qosClass"] = pod.qos_class
    return status


def container_id(pod_uid: str, name: str, restart: int) -> str:
    """Deterministic ``containerd://`` ID for one container instance."""
    return "containerd://" + _sha(f"{pod_uid}/{name}/{restart}")
