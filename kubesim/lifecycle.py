"""Container exits, restarts, image-pull back-off, graceful stop and deadlines.

Restart back-off follows the kubelet: the first restart is immediate, later
ones wait 10 s, 20 s, 40 s … capped at 300 s (the container shows
``CrashLoopBackOff`` meanwhile), and the back-off resets after 10 minutes of
healthy running.  ``restartCount`` increments when the new instance starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backoff import BACKOFF_RESET, BACKOFF_START, SYNC_SECONDS, next_backoff
from .podstate import ContainerRuntime, PodRuntime

if TYPE_CHECKING:  # pragma: no cover
    from .kubelet import Kubelet

def container_exited(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime, exit_code: int,
                     reason: str) -> None:
    """The running instance of ``c`` ended with ``exit_code``."""
    if c.state != "running":
        return
    now = kubelet.cluster.clock.now()
    inst = c.current
    inst.finished, inst.exit_code, inst.reason = now, exit_code, reason
    c.state = "terminated"
    kubelet.cluster.execs.container_stopped(rt.namespace, rt.name, c.name)
    if now - inst.started >= BACKOFF_RESET:
        c.backoff = 0.0
    kubelet.write(rt)
    if c.init:
        if exit_code == 0:
            if not rt.terminating:
                kubelet.init_finished(rt, c)
            return
        restart = rt.restart_policy != "Never"  # a failed init container is retried
    else:
        restart = rt.restart_policy == "Always" or (rt.restart_policy == "OnFailure"
                                                     and exit_code)
    if restart and not rt.terminating and not rt.terminal_phase:
        kubelet.later(rt, SYNC_SECONDS, lambda: _sync_exited(kubelet, rt, c))


def _sync_exited(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime) -> None:
    if c.state != "terminated" or rt.terminating:
        return
    c.last_terminated = c.terminated_state(c.current)
    if c.backoff <= 0:
        c.backoff = BACKOFF_START
        restart(kubelet, rt, c)
        return
    wait = c.backoff
    c.backoff = next_backoff(c.backoff)
    pod_ref = f"{rt.name}_{rt.namespace}({rt.uid})"
    c.state = "waiting"
    c.waiting_reason = "CrashLoopBackOff"
    c.waiting_message = (f"back-off {int(wait)}s restarting failed container={c.name} "
                         f"pod={pod_ref}")
    kubelet.event(rt, "Warning", "BackOff",
                  f"Back-off restarting failed container {c.name} in pod {pod_ref}", c.name)
    kubelet.write(rt)
    kubelet.later(rt, wait, lambda: restart(kubelet, rt, c))


def restart(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime) -> None:
    """Start the next instance of a crashed container."""
    if rt.terminating or rt.terminal_phase:
        return
    c.last_terminated = c.terminated_state(c.current)
    c.restart_count += 1
    if c.pull_policy == "Always":
        kubelet.event(rt, "Normal", "Pulling", f'Pulling image "{c.image}"', c.name)
    kubelet.event(rt, "Normal", "Pulled",
                  f'Container image "{c.image}" already present on machine', c.name)
    kubelet.run_instance(rt, c)


def terminate(kubelet: "Kubelet", rt: PodRuntime, grace: float) -> None:
    """Graceful deletion: SIGTERM every running container, SIGKILL at the deadline.

    A container stops ``scenario.stop_seconds`` after SIGTERM with exit code 0;
    if that exceeds the grace period it is killed with 137.  Calling this again
    with a shorter grace period (a second DELETE) moves the deadline in.
    """
    clock = kubelet.cluster.clock
    now = clock.now()
    first = rt.term_started is None
    if first:
        rt.term_started = now
        rt.terminating = True
    rt.cancel_timers()
    deadline = now + grace
    latest = now
    for c in rt.all_containers:
        if c.state != "running":
            continue
        if first:
            kubelet.event(rt, "Normal", "Killing", f"Stopping container {c.name}", c.name)
        graceful_at = rt.term_started + c.scenario.stop_seconds
        stop_at, code = (graceful_at, 0) if graceful_at <= deadline else (deadline, 137)
        latest = max(latest, stop_at)
        reason = "Completed" if code == 0 else "Error"
        kubelet.later(rt, stop_at - now,
                      lambda c=c, code=code, reason=reason: _stop(kubelet, rt, c, code, reason))
    kubelet.later(rt, latest - now, lambda: _finish(kubelet, rt))


def _stop(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime, code: int,
          reason: str) -> None:
    if c.state == "running":
        inst = c.current
        inst.finished, inst.exit_code, inst.reason = kubelet.cluster.clock.now(), code, reason
        c.state = "terminated"
        kubelet.cluster.execs.container_stopped(rt.namespace, rt.name, c.name)


def _finish(kubelet: "Kubelet", rt: PodRuntime) -> None:
    for c in rt.all_containers:
        _stop(kubelet, rt, c, 137, "Error")
    kubelet.write(rt)
    kubelet.cluster.finish_pod_deletion(rt.namespace, rt.name)


def deadline_exceeded(kubelet: "Kubelet", rt: PodRuntime) -> None:
    """``activeDeadlineSeconds`` passed: kill containers, pod Failed/DeadlineExceeded."""
    if rt.terminating or rt.terminal_phase:
        return
    message = "Pod was active on the node longer than the specified deadline"
    kubelet.event(rt, "Normal", "DeadlineExceeded", message)
    for c in rt.all_containers:
        if c.state == "running":
            kubelet.event(rt, "Normal", "Killing", f"Stopping container {c.name}", c.name)
            _stop(kubelet, rt, c, 137, "Error")
    rt.cancel_timers()
    rt.reason, rt.message = "DeadlineExceeded", message
    rt.terminal_phase = "Failed"
    kubelet.write(rt)
