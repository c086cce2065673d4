"""``GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec`` over WebSocket.

Subprotocols, in the client's order of preference:

* ``v5.channel.k8s.io`` - what kubectl 1.30+ sends (only that one) and the
  ``kubernetes`` client prefers: binary frames ``[channel][data]``, channels
  0 stdin, 1 stdout, 2 stderr, 3 status (a ``metav1.Status``), 4 resize,
  and 255 "close": ``[255, 0]`` from the client ends stdin.  On a real cluster
  the apiserver translates this stream, so errors carry its extra wrapping.
* ``v4.channel.k8s.io`` (and ``v4.base64.channel.k8s.io``): the same without
  the close signal; the kubelet's wording of errors.
* ``channel.k8s.io`` / ``base64.channel.k8s.io`` (or no subprotocol): the
  status channel carries only an error message, never an exit code.

A request without a WebSocket upgrade (SPDY, which kubectl falls back to
when the WebSocket upgrade fails) gets its error as a plain ``Status``.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import json

from aiohttp import WSMsgType, web

from .. import errors, remotecommand
from ..fs.errors import FsError
from ..userland.streams import BytesReader, NullWriter, Pipe, PipeReader, Writer
from .common import query_bool

V5, V4, V4_B64 = "v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io"
V1, V1_B64 = "channel.k8s.io", "base64.channel.k8s.io"
PROTOCOLS = (V5, V4, V4_B64, V1, V1_B64)
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
FRAME = 1 << 16          # largest data frame we send
FLUSH_AT = 1 << 16       # buffered output is sent once this much is queued
DISCONNECT_GRACE = 5.0   # wall seconds a command may run on after the client went away


class Channels:
    """Frames out: per-channel writers that buffer, keep order, and flush soon."""

    def __init__(self, ws: web.WebSocketResponse, protocol: str, tty: bool):
        self.ws = ws
        self.base64 = protocol in (V4_B64, V1_B64)
        self.tty = tty
        self.segments: list[list] = []
        self.size = 0
        self.closed = False
        self._lock = asyncio.Lock()
        self._scheduled = False

    async def send(self, channel: int, data: bytes) -> None:
        """Send one frame right away."""
        if self.closed or self.ws.closed:
            raise FsError(errno.EPIPE)
        if self.base64:
            await self.ws.send_str(str(channel) + base64.b64encode(data).decode())
        else:
            await self.ws.send_bytes(bytes((channel,)) + data)

    async def write(self, channel: int, data: bytes) -> None:
        if self.closed or self.ws.closed:
            raise FsError(errno.EPIPE)
        if not data:
            return
        if self.tty:
            data = bytes(data).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if self.segments and self.segments[-1][0] == channel:
            self.segments[-1][1] += data
        else:
            self.segments.append([channel, bytearray(data)])
        self.size += len(data)
        if self.size >= FLUSH_AT:
            await self.flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._scheduled = False
        if self.segments:
            asyncio.ensure_future(self._safe_flush())

    async def _safe_flush(self) -> None:
        try:
            await self.flush()
        except (FsError, ConnectionError, RuntimeError):
            pass

    async def flush(self) -> None:
        async with self._lock:
            while self.segments:
                segments, self.segments, self.size = self.segments, [], 0
                for channel, data in segments:
                    view = memoryview(data)
                    for offset in range(0, len(view), FRAME):
                        await self.send(channel, view[offset:offset + FRAME])


class ChannelWriter(Writer):
    """A process's stdout or stderr bound to a channel."""

    def __init__(self, channels: Channels, channel: int):
        self.channels = channels
        self.channel = channel

    async def write(self, data: bytes) -> None:
        await self.channels.write(self.channel, data)

    async def flush(self) -> None:
        try:
            await self.channels.flush()
        except (ConnectionError, RuntimeError):
            raise FsError(errno.EPIPE) from None


class LineDiscipline:
    """A pty in cooked mode: echo, ``\\r`` -> ``\\n``, erase, ^D at line start is EOF."""

    def __init__(self, pipe: Pipe, channels: Channels):
        self.pipe = pipe
        self.channels = channels
        self.line = bytearray()

    async def feed(self, data: bytes) -> None:
        echo = bytearray()
        for byte in data:
            if byte in (13, 10):
                echo += b"\n"
                await self.pipe.put(bytes(self.line) + b"\n")
                self.line.clear()
            elif byte in (127, 8):
                if self.line:
                    self.line.pop()
                    echo += b"\b \b"
            elif byte == 4:
                if not self.line:
                    self.pipe.close_write()
                    break
                await self.pipe.put(bytes(self.line))
                self.line.clear()
            elif byte == 3:
                echo += b"^C\n"
                self.line.clear()
            elif byte == 21:
                echo += b"\b \b" * len(self.line)
                self.line.clear()
            else:
                self.line.append(byte)
                echo.append(byte)
        if echo:
            try:
                await self.channels.write(STDOUT, bytes(echo))
            except FsError:
                pass


def _commands(request: web.Request) -> list[str]:
    return request.query.getall("command", [])


def _wants_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def serve_exec(request: web.Request, cluster, namespace: str,
                     name: str) -> web.StreamResponse:
    """Handle an exec request (see module docstring)."""
    opts = remotecommand.prepare(
        cluster, namespace, name, request.query.get("container"), _commands(request),
        query_bool(request, "stdin"), query_bool(request, "stdout"),
        query_bool(request, "stderr"), query_bool(request, "tty"))
    if not _wants_websocket(request):
        if request.headers.get("Upgrade"):
            raise errors.bad_request("kubesim serves exec over WebSocket "
                                     "(v5.channel.k8s.io, v4.channel.k8s.io) only; "
                                     f"{request.headers['Upgrade']} is not simulated")
        raise errors.bad_request("Upgrade request required")
    if not (opts.stdin or opts.stdout or opts.stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
               if p.strip()]
    chosen = next((p for p in offered if p in PROTOCOLS), None)
    if offered and chosen is None:
        raise errors.bad_request(f"requested protocol(s) are not supported: {offered}; "
                                 f"supports {list(PROTOCOLS)}")
    protocol = chosen or V1
    translated = protocol == V5
    if not translated and not remotecommand._running(cluster, opts):
        # Without the v5 translator the apiserver proxies to the kubelet, which refuses
        # the upgrade itself.
        return web.Response(status=500, text=f'container not found ("{opts.container}")',
                            content_type="text/plain")
    ws = web.WebSocketResponse(protocols=(chosen,) if chosen else (), max_msg_size=0,
                               autoping=True, compress=False)
    await ws.prepare(request)
    channels = Channels(ws, protocol, opts.tty)
    stdin_pipe = Pipe() if opts.stdin else None
    reader = PipeReader(stdin_pipe) if stdin_pipe else BytesReader()
    stdout = ChannelWriter(channels, STDOUT) if opts.stdout else NullWriter()
    stderr = ChannelWriter(channels, STDERR) if opts.stderr else (stdout if opts.tty else
                                                                  NullWriter())
    discipline = LineDiscipline(stdin_pipe, channels) if opts.tty and stdin_pipe else None
    try:
        # The translator's "connection is ready" signal: an empty frame on the first
        # writable channel.
        await channels.send(STDOUT if opts.stdout else STDERR if opts.stderr else STATUS, b"")
    except (FsError, ConnectionError, RuntimeError):
        return ws
    task = asyncio.ensure_future(remotecommand.execute(cluster, opts, reader, stdout, stderr))
    receiver = asyncio.ensure_future(_receive(ws, protocol, stdin_pipe, discipline, task))
    status_body = None
    try:
        status = await task
        status_body = remotecommand.status_object(status, opts.command, translated)
    except remotecommand.StartFailure as failure:
        status_body = remotecommand.failure_object(failure, translated)
    except asyncio.CancelledError:
        task.cancel()
        receiver.cancel()
        raise
    try:
        await channels.flush()
        if protocol in (V5, V4, V4_B64):
            await channels.send(STATUS, json.dumps(status_body, separators=(",", ":"))
                                .encode())
        elif status_body.get("status") != "Success":
            await channels.send(STATUS, status_body["message"].encode())
        channels.closed = True
        await ws.close()
    except (FsError, ConnectionError, RuntimeError):
        pass
    finally:
        receiver.cancel()
    return ws


async def _receive(ws: web.WebSocketResponse, protocol: str, stdin_pipe: Pipe | None,
                   discipline: LineDiscipline | None, task: asyncio.Task) -> None:
    b64 = protocol in (V4_B64, V1_B64)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                data = msg.data
            elif msg.type == WSMsgType.TEXT:
                if b64:
                    if not msg.data:
                        continue
                    try:
                        data = bytes((int(msg.data[0]),)) + base64.b64decode(msg.data[1:])
                    except ValueError:
                        continue
                else:
                    data = msg.data.encode("utf-8", errors="surrogateescape")
            else:
                break
            if not data:
                continue
            channel = data[0]
            if channel == CLOSE and protocol == V5:
                if len(data) > 1 and data[1] == STDIN and stdin_pipe is not None:
                    stdin_pipe.close_write()
                continue
            if channel == STDIN and stdin_pipe is not None and len(data) > 1:
                try:
                    if discipline is not None:
                        await discipline.feed(data[1:])
                    else:
                        await stdin_pipe.put(data[1:])
                except FsError:
                    continue  # the command stopped reading its stdin
    finally:
        if stdin_pipe is not None:
            stdin_pipe.close_write()
        if not task.done():
            # The client went away: a command finishing on its own (tar x after EOF) may
            # complete; anything still running after the grace period is killed.
            asyncio.get_running_loop().call_later(DISCONNECT_GRACE, task.cancel)
