"""Startup and readiness probes: they always pass, after ``initialDelaySeconds``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .kubelet import Kubelet
    from .podstate import ContainerRuntime, PodRuntime


def probe_delay(probe) -> float | None:
    """When a probe first succeeds: after ``initialDelaySeconds`` (probes always pass)."""
    if not isinstance(probe, dict):
        return None
    return float(probe.get("initialDelaySeconds") or 0)


def arm_probes(kubelet: "Kubelet", rt: PodRuntime, c: ContainerRuntime) -> None:
    """Reset a fresh instance's started/ready flags and schedule the first probe passes."""
    # A fresh instance is not started/ready until its probes first pass; readiness
    # probing only begins once the startup probe has succeeded, as in the kubelet.
    inst = c.current
    c.started_ok = c.startup_delay is None
    c.ready_ok = c.readiness_delay is None and c.started_ok

    def ready() -> None:
        if c.current is inst and c.state == "running":
            c.ready_ok = True
            kubelet.write(rt)

    def started() -> None:
        if c.current is inst and c.state == "running":
            c.started_ok = True
            if c.readiness_delay is None:
                c.ready_ok = True
            else:
                kubelet.later(rt, c.readiness_delay, ready)
            kubelet.write(rt)

    if not c.started_ok:
        kubelet.later(rt, c.startup_delay, started)
    elif not c.ready_ok:
        kubelet.later(rt, c.readiness_delay, ready)
