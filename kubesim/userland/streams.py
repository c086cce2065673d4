"""Byte streams between simulated processes: readers, writers and pipes.

Everything is asyncio: a pipe holds at most :data:`PIPE_LIMIT` bytes before
its writer waits (back-pressure, as with a kernel pipe), a reader that closes
early makes the writer fail with ``EPIPE`` (``head -1`` ending ``yes``), and
the exec WebSocket feeds stdin through the same pipe.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections import deque

from ..fs.errors import FsError
from ..fs.nodes import Device, File

PIPE_LIMIT = 1 << 16
CHUNK = 1 << 16


class Reader:
    """Buffered async reader; subclasses implement :meth:`_fill`."""

    def __init__(self):
        self._buf = b""
        self._pos = 0

    async def _fill(self) -> bytes:
        """Next chunk of input, ``b""`` at end of file."""
        return b""

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all remaining input when ``n < 0``); ``b""`` at EOF."""
        if self._pos < len(self._buf):
            if n < 0:
                head = self._buf[self._pos:]
                self._buf, self._pos = b"", 0
                rest = await self.read(-1)
                return head + rest if rest else head
            end = self._pos + n
            out = self._buf[self._pos:end]
            if end >= len(self._buf):
                self._buf, self._pos = b"", 0
            else:
                self._pos = end
            return out
        if n < 0:
            chunks = []
            while True:
                chunk = await self._fill()
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        chunk = await self._fill()
        if len(chunk) <= n:
            return chunk
        self._buf, self._pos = chunk, n
        return chunk[:n]

    async def readexactly(self, n: int) -> bytes:
        """``n`` bytes, or fewer only at end of file."""
        parts, need = [], n
        while need:
            chunk = await self.read(need)
            if not chunk:
                break
            parts.append(chunk)
            need -= len(chunk)
        return b"".join(parts) if len(parts) != 1 else parts[0]

    async def readline(self) -> bytes:
        """One line including its newline (the rest of the input at EOF)."""
        parts = []
        while True:
            if self._pos < len(self._buf):
                i = self._buf.find(b"\n", self._pos)
                if i >= 0:
                    parts.append(self._buf[self._pos:i + 1])
                    self._pos = i + 1
                    return b"".join(parts)
                parts.append(self._buf[self._pos:])
            self._buf, self._pos = await self._fill(), 0
            if not self._buf:
                return b"".join(parts)

    def close(self) -> None:
        """Stop reading (a pipe's writer then gets ``EPIPE``)."""


class BytesReader(Reader):
    """Reads from a bytes object (here-documents, ``sim.exec`` stdin)."""

    def __init__(self, data: bytes = b""):
        super().__init__()
        self._data = data
        self._done = not data

    async def _fill(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        return self._data


class FileReader(Reader):
    """Reads a regular file as it is (sees appends made while reading)."""

    def __init__(self, node: File):
        super().__init__()
        self.node = node
        self.offset = 0

    async def _fill(self) -> bytes:
        data = self.node.data
        if self.offset >= len(data):
            return b""
        chunk = data[self.offset:self.offset + CHUNK]
        self.offset += len(chunk)
        return bytes(chunk)


class DeviceReader(Reader):
    """``/dev/zero``, ``/dev/urandom``, ``/dev/null``."""

    def __init__(self, device: str):
        super().__init__()
        self.device = device

    async def _fill(self) -> bytes:
        if self.device == "zero":
            await asyncio.sleep(0)
            return bytes(CHUNK)
        if self.device in ("random", "urandom"):
            await asyncio.sleep(0)
            return os.urandom(CHUNK)
        return b""


class Pipe:
    """A bounded in-memory pipe."""

    def __init__(self, limit: int = PIPE_LIMIT):
        self.limit = limit
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.write_closed = False
        self.read_closed = False
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    async def put(self, data: bytes) -> None:
        """Append ``data``, waiting while the pipe is full; ``EPIPE`` if nobody reads."""
        while self.size >= self.limit and not self.read_closed:
            self._writable.clear()
            await self._writable.wait()
        if self.read_closed:
            raise FsError(errno.EPIPE)
        if data:
            self.chunks.append(bytes(data))
            self.size += len(data)
            self._readable.set()

    async def get(self) -> bytes:
        """Next chunk, ``b""`` once the write end is closed and the pipe drained."""
        while not self.chunks:
            if self.write_closed:
                return b""
            self._readable.clear()
            await self._readable.wait()
        chunk = self.chunks.popleft()
        self.size -= len(chunk)
        self._writable.set()
        return chunk

    def close_write(self) -> None:
        """End of input for the reader."""
        self.write_closed = True
        self._readable.set()

    def close_read(self) -> None:
        """The reader is gone: drop buffered data, fail further writes."""
        self.read_closed = True
        self.chunks.clear()
        self.size = 0
        self._writable.set()


class PipeReader(Reader):
    """The read end of a :class:`Pipe`."""

    def __init__(self, pipe: Pipe):
        super().__init__()
        self.pipe = pipe

    async def _fill(self) -> bytes:
        return await self.pipe.get()

    def close(self) -> None:
        self.pipe.close_read()


class Writer:
    """Async byte sink."""

    async def write(self, data: bytes) -> None:
        """Write all of ``data`` (raises :class:`FsError` on failure)."""

    async def flush(self) -> None:
        """Push buffered output out."""

    def close(self) -> None:
        """No more output."""


class NullWriter(Writer):
    """Discards everything (a closed or unrequested stream)."""


class CaptureWriter(Writer):
    """Collects output in memory (command substitution, ``sim.exec``)."""

    def __init__(self, limit: int | None = None):
        self.buffer = bytearray()
        self.limit = limit

    async def write(self, data: bytes) -> None:
        if self.limit is not None and len(self.buffer) + len(data) > self.limit:
            raise FsError(errno.ENOSPC)
        self.buffer += data


class PipeWriter(Writer):
    """The write end of a :class:`Pipe`."""

    def __init__(self, pipe: Pipe):
        self.pipe = pipe

    async def write(self, data: bytes) -> None:
        await self.pipe.put(data)

    def close(self) -> None:
        self.pipe.close_write()


class FileWriter(Writer):
    """Writes into a regular file (through a :class:`~kubesim.fs.vfs.WriteHandle`)."""

    def __init__(self, handle):
        self.handle = handle

    async def write(self, data: bytes) -> None:
        self.handle.write(data)


def device_reader(node: Device, stdin: Reader) -> Reader:
    """Reader for a device node opened by a process (``/dev/stdin`` is its stdin)."""
    if node.device in ("stdin", "tty"):
        return stdin
    return DeviceReader(node.device)


async def copy(reader: Reader, writer: Writer, chunk: int = CHUNK) -> int:
    """Copy until EOF; returns the byte count."""
    total = 0
    while True:
        data = await reader.read(chunk)
        if not data:
            return total
        await writer.write(data)
        total += len(data)
