"""``pods/exec``: run a command in a simulated container (transport-independent).

Checks happen where a real cluster makes them.  The apiserver rejects a
missing pod (404), an unknown or ambiguous container, and an unscheduled pod
(400) before the connection is upgraded; the kubelet then fails a container
that is not running (``container not found ("main")``), and the runtime a
binary it cannot start (runc's ``executable file not found in $PATH``) -
those arrive on the status channel.  A command's exit status is reported as
Kubernetes does (``Success``, or ``NonZeroExitCode`` with an ``ExitCode``
cause).  Running sessions are killed (exit 137) when their container stops.
"""

from __future__ import annotations

import asyncio
import errno
import secrets
from collections import defaultdict
from dataclasses import dataclass

from . import errors
from .fs.errors import FsError
from .fs.manager import MountFailure
from .fs.vfs import FsView
from .userland import APPLETS
from .userland.process import SIGKILL_STATUS, Context, Proc, run_main
from .userland.runner import find_program, resolve_program
from .userland.streams import BytesReader, CaptureWriter, Reader, Writer

RUNC = "OCI runtime exec failed: exec failed: unable to start container process: "


@dataclass
class ExecOptions:
    """A validated exec request."""

    namespace: str
    pod: str
    container: str
    command: list[str]
    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False


class StartFailure(Exception):
    """The kubelet or the container runtime could not start the command."""

    def __init__(self, message: str, upgrade: bool = False):
        super().__init__(message)
        self.message = message
        # The kubelet refused the stream itself (reported as "unable to upgrade connection").
        self.upgrade = upgrade


def prepare(cluster, namespace: str, name: str, container: str | None, command: list[str],
            stdin: bool, stdout: bool, stderr: bool, tty: bool) -> ExecOptions:
    """The apiserver's checks (``streamLocation``); raises :class:`ApiError`."""
    stored = cluster.store.get("pods", namespace, name)
    if stored is None:
        raise errors.not_found("pods", name)
    pod = stored.obj()
    spec = pod.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or []]
    inits = [c.get("name") for c in spec.get("initContainers") or []]
    if not container:
        if len(names) == 1:
            container = names[0]
        else:
            message = f"a container name must be specified for pod {name}"
            if names:
                message += f", choose one of: [{' '.join(names)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
            raise errors.bad_request(message)
    elif container not in names and container not in inits:
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    if not spec.get("nodeName"):
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    return ExecOptions(namespace, name, container, list(command), stdin, stdout,
                       stderr and not tty, tty)


def _exec_id() -> str:
    return secrets.token_hex(32)


def _runtime_error(detail: str) -> StartFailure:
    return StartFailure(f"error executing command in container: failed to exec in container: "
                        f"failed to start exec \"{_exec_id()}\": {RUNC}{detail}: unknown")


class Sessions:
    """Running exec sessions per container, so a stopping container kills them."""

    def __init__(self):
        self._tasks: dict[tuple[str, str, str], set[asyncio.Task]] = defaultdict(set)

    def add(self, key: tuple[str, str, str], task: asyncio.Task) -> None:
        self._tasks[key].add(task)
        task.add_done_callback(lambda t: self._tasks.get(key, set()).discard(t))

    def container_stopped(self, namespace: str, pod: str, container: str | None = None) -> None:
        """Kill the sessions of one container (or of every container of the pod)."""
        for key in list(self._tasks):
            if key[0] == namespace and key[1] == pod and container in (None, key[2]):
                for task in self._tasks.pop(key):
                    task.cancel()

    def kill_all(self) -> None:
        """Cluster reset."""
        for tasks in self._tasks.values():
            for task in tasks:
                task.cancel()
        self._tasks.clear()


def _running(cluster, opts: ExecOptions) -> bool:
    rt = cluster.kubelet.get(opts.namespace, opts.pod)
    c = rt.container(opts.container) if rt is not None else None
    return c is not None and c.state == "running" and not rt.terminal_phase


def context_for(cluster, opts: ExecOptions) -> Context:
    """What a process in the container sees of its surroundings."""
    stored = cluster.store.get("pods", opts.namespace, opts.pod)
    pod = stored.obj() if stored is not None else {"spec": {}, "status": {}}
    ctx = Context(opts.namespace, opts.pod, opts.container,
                  (pod.get("spec") or {}).get("hostname") or opts.pod, now=cluster.clock.now,
                  tty=opts.tty, applets=APPLETS,
                  pod_ip=(pod.get("status") or {}).get("podIP", ""),
                  node=cluster.config.node_name, cpus=max(1, int(cluster.config.node_cpu)))
    return ctx


async def execute(cluster, opts: ExecOptions, stdin: Reader, stdout: Writer,
                  stderr: Writer) -> int:
    """Run the command to completion; returns its exit status (137 if the container stops).

    Raises :class:`StartFailure` when the kubelet or runtime cannot start it.
    """
    if not _running(cluster, opts):
        raise StartFailure(f'container not found ("{opts.container}")', upgrade=True)
    task = asyncio.current_task()
    cluster.execs.add((opts.namespace, opts.pod, opts.container), task)
    fs_manager = cluster.fs
    try:
        ns = fs_manager.namespace(opts.namespace, opts.pod, opts.container)
        env = fs_manager.environment(opts.namespace, opts.pod, opts.container)
    except (MountFailure, FsError) as exc:
        raise StartFailure(f"error executing command in container: {exc}") from None
    stored = cluster.store.get("pods", opts.namespace, opts.pod)
    pod = stored.obj()
    uid, gid, groups = fs_manager.credentials(pod, opts.container)
    container = next((c for c in (pod["spec"].get("containers") or [])
                      + (pod["spec"].get("initContainers") or [])
                      if c.get("name") == opts.container), {})
    cwd = container.get("workingDir") or "/"
    view = FsView(ns, cwd, uid, gid, groups)
    if opts.tty:
        env.setdefault("TERM", "xterm")
    if not opts.command or not opts.command[0]:
        raise _runtime_error('exec: "": executable file not found in $PATH')
    argv = opts.command
    found = find_program(view, argv[0], env.get("PATH", ""))
    if isinstance(found, int):
        if "/" in argv[0]:
            if found == errno.EACCES:
                raise _runtime_error(f'exec: "{argv[0]}": permission denied')
            raise _runtime_error(f'exec: "{argv[0]}": stat {argv[0]}: no such file or '
                                 f'directory')
        raise _runtime_error(f'exec: "{argv[0]}": executable file not found in $PATH')
    path, node = found
    if not view.may(node, 1):
        raise _runtime_error(f'exec: "{argv[0]}": permission denied')
    resolved = resolve_program(view, path, node, argv)
    if isinstance(resolved, str):
        raise _runtime_error(f"exec {path}: exec format error")
    applet, args = resolved
    main = APPLETS.get(applet)
    if main is None:
        raise _runtime_error(f"exec {path}: exec format error")
    ctx = context_for(cluster, opts)
    key = (opts.namespace, opts.pod, opts.container)
    ctx.detach = lambda job: cluster.execs.add(key, job)
    proc = Proc(ctx, view, env, stdin, stdout, stderr, name=args[0].rsplit("/", 1)[-1])
    proc.argv0 = args[0]
    try:
        return await run_main(main, proc, args[1:])
    except asyncio.CancelledError:
        if _killed(cluster, opts):
            return SIGKILL_STATUS
        raise


def _killed(cluster, opts: ExecOptions) -> bool:
    return not _running(cluster, opts)


def status_object(status: int, command: list[str], translated: bool) -> dict:
    """The ``metav1.Status`` written to the error channel (v4/v5)."""
    if status == 0:
        return {"metadata": {}, "status": "Success"}
    if translated:
        # The apiserver's stream translator (v5) re-wraps the kubelet's exit error.
        detail = f"command terminated with exit code {status}"
    else:
        detail = f"error executing command [{' '.join(command)}], exit code {status}"
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: {detail}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(status)}]}}


def failure_object(failure: StartFailure, translated: bool) -> dict:
    """``InternalError`` Status for a command that could not be started."""
    message = failure.message
    if translated:
        # The v5 translator sees the kubelet's error through its own SPDY client.
        message = ("unable to upgrade connection: " + message if failure.upgrade
                   else "Internal error occurred: " + message)
    err = errors.internal(message)
    body = err.status()
    body.pop("kind", None)
    body.pop("apiVersion", None)
    return body


@dataclass
class ExecResult:
    """Outcome of :func:`run_captured` (``sim.exec``)."""

    status: int
    stdout: bytes
    stderr: bytes


async def run_captured(cluster, namespace: str, pod: str, command: list[str],
                       container: str | None = None, stdin: bytes | None = None) -> ExecResult:
    """Run a command and collect its output (the handle's ``exec``; no WebSocket)."""
    opts = prepare(cluster, namespace, pod, container, command, stdin is not None, True, True,
                   False)
    out, err = CaptureWriter(), CaptureWriter()
    try:
        status = await execute(cluster, opts, BytesReader(stdin or b""), out, err)
    except StartFailure as failure:
        raise errors.internal(failure.message) from None
    return ExecResult(status, bytes(out.buffer), bytes(err.buffer))
