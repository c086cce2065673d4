"""Startup, readiness and liveness probes, run on the virtual clock as the kubelet runs them.

A probe first runs ``initialDelaySeconds`` after the container started (readiness and liveness:
after the startup probe succeeded), then every ``periodSeconds``. Its outcome:

- pod annotation ``kubesim.io/probe.<startup|readiness|liveness>: fail`` (or ``pass``) decides;
- the image scenario ``unready`` fails readiness, ``unhealthy`` fails liveness;
- ``exec``: ``true`` passes, ``false`` fails, ``test -e|-f|-d PATH`` / ``cat PATH`` / ``ls PATH``
  pass when the path exists in the container's filesystem (paths under ``/proc``, ``/sys`` and
  ``/dev`` always exist; so ``kubectl exec … touch /tmp/ready``
  makes a ``test -f /tmp/ready`` probe pass), ``sh -c "exit N"`` passes for N = 0; anything else
  passes;
- ``httpGet`` / ``tcpSocket``: the container listens on its declared ``containerPort``s (on any
  port when it declares none): a probe of another port fails with "connection refused".

``successThreshold`` successes make a container ready, ``failureThreshold`` failures unready;
each failure records an ``Unhealthy`` Warning event with the kubelet's wording. A failed startup
or liveness probe kills the container (exit code 137), which the restart policy then handles.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from . import lifecycle

if TYPE_CHECKING:  # pragma: no cover
    from .kubelet import Kubelet
    from .podstate import ContainerRuntime, PodRuntime

KINDS = ("startup", "readiness", "liveness")
ANNOTATION = "kubesim.io/probe."


def probe_delay(probe) -> float | None:
    """Seconds until a probe first runs (None: no probe)."""
    if not isinstance(probe, dict):
        return None
    return float(probe.get("initialDelaySeconds") or 0)


def _exec_outcome(kubelet: "Kubelet", rt: "PodRuntime", c: "ContainerRuntime", command: list) -> tuple[bool, str]:
    argv = [str(a) for a in command or []]
    if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and argv[1] == "-c":
        try:
            argv = shlex.split(argv[2])
        except ValueError:
            return True, ""
        if len(argv) == 2 and argv[0] == "exit":
            code = argv[1]
            return code == "0", f"command {command!r} exited with {code}"
    if not argv:
        return True, ""
    name = argv[0].rsplit("/", 1)[-1]
    if name == "true":
        return True, ""
    if name == "false":
        return False, f"command {command!r} exited with 1"
    paths = None
    if name == "test" and len(argv) == 3 and argv[1] in ("-e", "-f", "-d"):
        paths = [argv[2]]
    elif name in ("cat", "ls") and len(argv) >= 2:
        paths = [a for a in argv[1:] if not a.startswith("-")]
    # The kernel's filesystems are not simulated: a probe reading them sees a live process.
    paths = [p for p in paths or [] if not p.startswith(("/proc/", "/sys/", "/dev/"))]
    if paths:
        from .fs.vfs import FsView

        try:
            view = FsView(kubelet.cluster.fs.namespace(rt.namespace, rt.name, c.name))
            missing = [p for p in paths if not view.exists(p)]
        except Exception:  # noqa: BLE001 - no filesystem yet: the command would fail
            missing = paths
        if missing:
            return False, f"{name}: {missing[0]}: No such file or directory"
    return True, ""


def outcome(kubelet: "Kubelet", rt: "PodRuntime", c: "ContainerRuntime", kind: str, probe: dict) -> tuple[bool, str]:
    """(passed, the kubelet's failure message)."""
    forced = (c.probe_overrides or {}).get(kind)
    http, tcp = probe.get("httpGet"), probe.get("tcpSocket")
    port = (http or tcp or {}).get("port")
    target = f"http://{rt.pod_ip or '10.0.0.1'}:{port}{(http or {}).get('path', '/')}" if http else \
        f"{rt.pod_ip or '10.0.0.1'}:{port}"
    if forced == "pass":
        return True, ""
    if forced == "fail" or (kind == "readiness" and c.scenario.name == "unready") \
            or (kind == "liveness" and c.scenario.name == "unhealthy"):
        if http:
            return False, "HTTP probe failed with statuscode: 503"
        if tcp:
            return False, f"dial tcp {target}: connect: connection refused"
        return False, f"command {probe.get('exec', {}).get('command')!r} exited with 1"
    if "exec" in probe:
        return _exec_outcome(kubelet, rt, c, (probe.get("exec") or {}).get("command"))
    if port is not None and c.ports and int(port) not in c.ports:
        if http:
            return False, f'Get "{target}": dial tcp {target.split("//", 1)[1].split("/", 1)[0]}: connect: connection refused'
        return False, f"dial tcp {target}: connect: connection refused"
    return True, ""


def arm_probes(kubelet: "Kubelet", rt: "PodRuntime", c: "ContainerRuntime") -> None:
    """Reset a fresh instance's started/ready flags and schedule its probes."""
    inst = c.current
    probes = {kind: c.probes[kind] for kind in KINDS if isinstance((c.probes or {}).get(kind), dict)}
    c.started_ok = "startup" not in probes
    c.ready_ok = "readiness" not in probes and c.started_ok
    counts = {kind: [0, 0] for kind in probes}  # consecutive successes, failures

    def alive() -> bool:
        return c.current is inst and c.state == "running"

    def schedule(kind: str, delay: float) -> None:
        kubelet.later(rt, delay, lambda: tick(kind))

    def tick(kind: str) -> None:
        if not alive():
            return
        probe = probes[kind]
        period = float(probe.get("periodSeconds") or 10)
        passed, message = outcome(kubelet, rt, c, kind, probe)
        ok, bad = counts[kind]
        counts[kind] = [ok + 1, 0] if passed else [0, bad + 1]
        ok, bad = counts[kind]
        if passed:
            if kind == "startup":
                c.started_ok = True
                if "readiness" not in probes:
                    c.ready_ok = True
                for other in ("readiness", "liveness"):
                    if other in probes:
                        schedule(other, probe_delay(probes[other]))
                kubelet.write(rt)
                return
            if kind == "readiness" and not c.ready_ok and ok >= int(probe.get("successThreshold") or 1):
                c.ready_ok = True
                kubelet.write(rt)
        else:
            kubelet.event(rt, "Warning", "Unhealthy", f"{kind.capitalize()} probe failed: {message}", c.name)
            if bad >= int(probe.get("failureThreshold") or 3):
                if kind == "readiness" and c.ready_ok:
                    c.ready_ok = False
                    kubelet.write(rt)
                elif kind in ("startup", "liveness"):
                    kubelet.event(rt, "Normal", "Killing",
                                  f"Container {c.name} failed {kind} probe, will be restarted", c.name)
                    lifecycle.container_exited(kubelet, rt, c, 137, "Error")
                    return
        schedule(kind, period)

    if "startup" in probes:
        schedule("startup", probe_delay(probes["startup"]))
    else:
        for kind in ("readiness", "liveness"):
            if kind in probes:
                schedule(kind, probe_delay(probes[kind]))
