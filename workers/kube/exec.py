"""Commands in a container through ``pods/exec`` (WebSocket, the ``kubernetes.stream`` client).

Streaming both ways without holding a transfer in memory: output frames are taken from the
socket one by one (``WSClient.update()`` appends with ``bytes +=``, quadratic for large outputs)
and handed to the caller as they come; input is written frame by frame. Every session uses its
own ``ApiClient`` (``stream()`` swaps the client's ``call_api`` while it connects, which is not
safe on the process-wide client other threads are using).
"""
import json
import time
from collections.abc import Iterator

from kubernetes import client
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL
from websocket import ABNF, WebSocketException, WebSocketTimeoutException

from . import client as kube_client
from .calls import translate
from .errors import KubeError, NotFound

FRAME = 256 * 1024  # bytes per stdin frame


class ExecFailed(KubeError):
    """The command could not run (container gone, program missing): the API server's message."""


def _status_exit_code(raw: bytes) -> int | None:
    """Exit code from the status channel's ``metav1.Status`` (None: no status received)."""
    if not raw:
        return None
    try:
        status = json.loads(raw)
    except ValueError:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or ():
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", "1"))
    raise ExecFailed(status.get("message") or "exec failed", status=500, reason=status.get("reason", ""))


class ExecSession:
    """One exec: ``write()`` to stdin, ``close_stdin()``, then iterate ``output()``."""

    def __init__(self, pod: str, argv: list[str], *, stdin: bool, container: str | None = None,
                 timeout: float = 60.0):
        configuration = kube_client.api_client().configuration
        self._api = client.ApiClient(configuration)
        core = client.CoreV1Api(self._api)
        kwargs = {"container": container} if container else {}
        self.deadline = time.monotonic() + timeout
        try:
            self.ws = stream(core.connect_get_namespaced_pod_exec, pod, kube_client.namespace(), command=argv,
                             stdin=stdin, stdout=True, stderr=True, tty=False, _preload_content=False,
                             _request_timeout=timeout, **kwargs)
        except Exception as exc:  # noqa: BLE001 - translated, re-raised
            self._api.close()
            translated = translate(exc)
            text = str(getattr(exc, "reason", "") or exc)
            if "Handshake status 404" in text:  # the handshake's own status: no such pod/container
                raise NotFound(f"exec: pod {pod} not found", status=404) from exc
            if "Handshake status" in text or translated is exc:
                raise ExecFailed(f"exec into {pod} failed: {text}", status=0) from exc
            raise translated from exc
        self.status_raw = b""
        self.exit_code = None
        self.timed_out = False

    def write(self, data: bytes) -> None:
        """Raises OSError (BrokenPipeError) when the command already ended and closed the stream."""
        try:
            for start in range(0, len(data), FRAME):
                self.ws.write_stdin(data[start:start + FRAME])
        except WebSocketException as exc:
            raise BrokenPipeError(str(exc)) from exc

    def close_stdin(self) -> None:
        self.ws.close_channel(0)

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """``(channel, data)`` for stdout/stderr until the command ends (or the deadline)."""
        sock = self.ws.sock
        try:
            while True:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    self.timed_out = True
                    return
                sock.settimeout(min(remaining, 5.0))
                try:
                    opcode, frame = sock.recv_data_frame(True)
                except WebSocketTimeoutException:
                    continue
                if opcode == ABNF.OPCODE_CLOSE:
                    return
                if opcode not in (ABNF.OPCODE_BINARY, ABNF.OPCODE_TEXT) or not frame.data:
                    continue
                data = frame.data if isinstance(frame.data, bytes) else frame.data.encode()
                channel, payload = data[0], data[1:]
                if channel == ERROR_CHANNEL:
                    self.status_raw += payload
                elif payload and channel in (STDOUT_CHANNEL, STDERR_CHANNEL):
                    yield channel, payload
        finally:
            if not self.timed_out:
                self.exit_code = _status_exit_code(self.status_raw)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self._api.close()


def run(pod: str, argv: list[str], *, stdin: bytes | None = None, container: str | None = None,
        timeout: float = 60.0, output_cap: int = 1024 * 1024) -> tuple[bytes, bytes, int | None, bool]:
    """Run ``argv``; ``(stdout, stderr, exit_code, timed_out)``, each output capped at ``output_cap``."""
    session = ExecSession(pod, argv, stdin=stdin is not None, container=container, timeout=timeout)
    out, err = bytearray(), bytearray()
    try:
        if stdin is not None:
            session.write(stdin)
            session.close_stdin()
        for channel, payload in session.frames():
            target = out if channel == STDOUT_CHANNEL else err
            if len(target) < output_cap:
                target += payload[:output_cap - len(target)]
    finally:
        session.close()
    return bytes(out), bytes(err), session.exit_code, session.timed_out


def stream_stdout(pod: str, argv: list[str], *, container: str | None = None,
                  timeout: float = 3600.0) -> Iterator[bytes]:
    """Yield the command's stdout as it arrives; raise ExecFailed when it ends non-zero."""
    session = ExecSession(pod, argv, stdin=False, container=container, timeout=timeout)
    err = bytearray()
    try:
        for channel, payload in session.frames():
            if channel == STDOUT_CHANNEL:
                yield payload
            elif len(err) < 4096:
                err += payload
    finally:
        session.close()
    if session.timed_out or session.exit_code:
        raise ExecFailed(f"{argv[0]} failed ({'timeout' if session.timed_out else session.exit_code}): "
                         f"{err.decode(errors='replace').strip()}", status=500)


class StdinWriter:
    """Feed a command's stdin chunk by chunk; ``finish()`` closes it and returns the result."""

    def __init__(self, pod: str, argv: list[str], *, container: str | None = None, timeout: float = 3600.0):
        self.session = ExecSession(pod, argv, stdin=True, container=container, timeout=timeout)

    def write(self, data: bytes) -> None:
        self.session.write(data)

    def finish(self) -> tuple[int | None, bytes]:
        """Close stdin, wait for the command; ``(exit_code, stdout+stderr capped)``."""
        output = bytearray()
        try:
            try:
                self.session.close_stdin()
            except (OSError, WebSocketException):
                pass  # it ended already: read what it said
            for _, payload in self.session.frames():
                if len(output) < 65536:
                    output += payload
        finally:
            self.session.close()
        return self.session.exit_code, bytes(output)

    def abort(self) -> None:
        self.session.close()
