"""Run kubesim in a background thread and control it from Python (tests).

>>> sim = start_in_thread()                    # manual clock, free port
>>> sim.write_kubeconfig(tmp_path / "kubeconfig")
>>> ...  # drive it with kubernetes.client through that kubeconfig
>>> sim.advance(5)                             # pods scheduled, pulled, Running
>>> sim.stop()

All handle methods are thread-safe: they run on the simulator's event loop and
wait for the result.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import control
from .config import Config
from .kubeconfig import write_kubeconfig
from .rbac import usage as rbac_usage
from .remotecommand import ExecResult, run_captured
from .server import Server


class KubeSim:
    """Handle on a kubesim server running in a daemon thread."""

    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop, thread: threading.Thread):
        self._server = server
        self._loop = loop
        self._thread = thread

    # -- connection details ------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._server.url

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return self._server.port

    @property
    def token(self) -> str | None:
        """Bearer token clients must send (``None``: no authentication)."""
        return self._server.config.token

    @property
    def cluster(self):
        """The :class:`~kubesim.cluster.Cluster` (only touch it via :meth:`call`)."""
        return self._server.cluster

    def write_kubeconfig(self, path: str | Path, namespace: str = "default",
                         context: str = "kubesim") -> Path:
        """Write a kubeconfig pointing at this server; returns the path."""
        return write_kubeconfig(path, self.url, self.token, namespace=namespace, context=context)

    # -- running code on the loop ------------------------------------------
    def call(self, fn: Callable[..., Any], *args, timeout: float = 30.0, **kwargs) -> Any:
        """Run ``fn(cluster, *args, **kwargs)`` on the simulator thread and return its result."""
        async def run():
            return fn(self._server.cluster, *args, **kwargs)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    # -- clock -------------------------------------------------------------
    def now(self) -> datetime:
        """Current virtual time (UTC)."""
        epoch = self.call(lambda c: c.clock.now())
        return datetime.fromtimestamp(epoch, tz=timezone.utc)

    def advance(self, seconds: float) -> datetime:
        """Move the virtual clock forward, running every due kubelet step in order."""
        self.call(control.advance, float(seconds))
        return self.now()

    def settle(self, max_seconds: float = 300.0) -> datetime:
        """Advance until no timer is pending (bounded by ``max_seconds``)."""
        self.call(control.settle, float(max_seconds))
        return self.now()

    # -- scenarios, faults, logs, journal ----------------------------------
    def set_scenario(self, scenario: str, *, image: str | None = None,
                     namespace: str | None = None, pod: str | None = None) -> None:
        """Choose ``scenario`` for pods created from now on.

        Without ``image``/``namespace``/``pod`` (globs) it changes the default for
        all pods; image names and annotations still take precedence over a default.
        """
        self.call(control.set_scenario, scenario, image, namespace, pod)

    def clear_scenarios(self) -> None:
        """Remove every scenario rule."""
        self.call(control.clear_scenarios)

    def inject_fault(self, *, verb: str = "*", path: str = "*", status: int | None = None,
                     message: str | None = None, reason: str | None = None,
                     retry_after: float | None = None, latency: float = 0.0,
                     drop: str | None = None, times: int | None = None) -> int:
        """Add a fault rule; returns its id.  See :mod:`kubesim.faults`.

        Examples: ``inject_fault(verb="POST", path="/api/v1/namespaces/*/pods",
        status=429, retry_after=2, times=1)``; ``inject_fault(verb="POST",
        path="*/pods", drop="after", times=1)`` (created, response lost);
        ``inject_fault(drop="before")`` (full outage until cleared).
        """
        spec = dict(verb=verb, path=path, status=status, message=message, reason=reason,
                    retry_after=retry_after, latency=latency, drop=drop, times=times)
        return self.call(control.inject_fault, **spec)["id"]

    def outage(self) -> int:
        """Drop every API connection until :meth:`clear_faults` (full outage)."""
        return self.inject_fault(drop="before")

    def remove_fault(self, fault_id: int) -> bool:
        """Remove one fault rule."""
        return self.call(control.remove_fault, fault_id)["removed"]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.call(control.clear_faults)

    def journal(self, since: int = 0) -> list[dict]:
        """Recorded API requests (``method, path, query, status, time, body, ...``)."""
        return self.call(control.journal, since)["entries"]

    def clear_journal(self) -> None:
        """Forget recorded requests."""
        self.call(control.clear_journal)

    def set_logs(self, namespace: str, pod: str, text: str, *, container: str | None = None,
                 previous: bool = False) -> None:
        """Replace the log text of a pod (one container, or all when ``container`` is None)."""
        self.call(control.set_logs, namespace, pod, text, container, previous)

    def reset(self) -> None:
        """Fresh cluster: objects, timers, faults, journal, scenario rules and logs."""
        self.call(control.reset)

    # -- RBAC (kubesim.rbac) ------------------------------------------------
    def apply_rbac(self, objects: list[dict]) -> list[dict]:
        """Load Roles, ClusterRoles, (Cluster)RoleBindings and ServiceAccounts (create or
        replace); enforced only when the simulator runs with ``Config(rbac=True)``."""
        return self.call(lambda c: c.access.apply(list(objects)))

    def clear_rbac(self) -> None:
        """Forget every loaded RBAC object and issued ServiceAccount token."""
        self.call(lambda c: c.access.clear())

    def service_account_token(self, namespace: str, name: str) -> str:
        """A bearer token for a loaded ServiceAccount (a real cluster's TokenRequest)."""
        return self.call(lambda c: c.access.issue_token(namespace, name))

    def usage(self, since: int = 0, user: str | None = None) -> list[dict]:
        """Distinct (user, verb, apiGroup, resource, subresource, namespace) of the journaled
        requests, with ``count`` and ``forbidden`` (how many RBAC refused)."""
        return self.call(lambda c: rbac_usage(c.journal.list(since), user))

    # -- containers ------------------------------------------------------------
    def exec(self, namespace: str, pod: str, command: list[str], *,
             container: str | None = None, stdin: bytes | None = None,
             timeout: float = 60.0) -> "ExecResult":
        """Run ``command`` in a running container (no WebSocket); returns
        ``ExecResult(status, stdout, stderr)``; failures raise
        :class:`~kubesim.errors.ApiError`."""
        future = asyncio.run_coroutine_threadsafe(
            run_captured(self._server.cluster, namespace, pod, list(command), container, stdin),
            self._loop)
        return future.result(timeout)

    def reachable(self, source: str, target: str, port: int | None = None,
                  protocol: str = "TCP") -> dict:
        """NetworkPolicy verdict for ``source`` -> ``target`` (``ns/pod`` or an IP)."""
        return self.call(control.reachable, source, target, port, protocol)

    # -- shutdown ------------------------------------------------------------
    def stop(self) -> None:
        """Stop the server and its thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> "KubeSim":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_in_thread(host: str = "127.0.0.1", port: int = 0, *, clock: str = "manual",
                    speed: float = 1.0, node_cpu: str = "4", node_memory: str = "16Gi",
                    node_pods: int = 110, token: str | None = "kubesim-token",
                    history_size: int = 100_000, bookmark_interval: float = 60.0,
                    start_time: float | None = None, seed: int | None = None,
                    fs_budget: str = "2Gi", config: Config | None = None) -> KubeSim:
    """Start kubesim on a daemon thread and return its :class:`KubeSim` handle.

    ``port=0`` picks a free port.  ``clock="manual"`` (default) moves time only
    through :meth:`KubeSim.advance`; ``clock="wall"`` follows real time times
    ``speed`` with the kubelet progressing on its own.
    """
    if config is None:
        config = Config(clock=clock, speed=speed, node_cpu_quantity=str(node_cpu),
                        node_memory_quantity=str(node_memory), node_pods=node_pods, token=token,
                        history_size=history_size, bookmark_interval=bookmark_interval,
                        start_time=start_time, seed=seed, fs_budget=fs_budget)
    server = Server(config, host, port)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:  # report bind errors to the caller
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name="kubesim", daemon=True)
    thread.start()
    ready.wait(30)
    if failure:
        raise failure[0]
    return KubeSim(server, loop, thread)
