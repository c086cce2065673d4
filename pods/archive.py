"""Zip archives built on the fly from a tar stream (directory downloads with ``zip=true``).

Constant memory whatever the size: tarfile reads the stream member by member, zipfile writes
into a sink that is drained after every block (zip's data descriptors need no seeking).
"""
import io
import posixpath
import tarfile
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of bytes (for tarfile's stream mode)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._buffer = chunks, b""

    def readable(self):
        return True

    def readinto(self, target):
        while not self._buffer:
            self._buffer = next(self._chunks, b"")
            if not self._buffer:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n], self._buffer = self._buffer[:n], self._buffer[n:]
        return n


class _Sink(io.RawIOBase):
    """Where zipfile writes; drained by the generator after every chunk (never the whole zip)."""

    def __init__(self):
        self.parts, self.position = [], 0

    def writable(self):
        return True

    def write(self, data):
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self):
        return self.position

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def zip_from_tar(chunks: Iterator[bytes], prefix: str = "") -> Iterator[bytes]:
    """A zip archive built on the fly from a tar stream: constant memory, whatever the size."""
    sink = _Sink()
    with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(chunks), 1024 * 1024), mode="r|") as tar, \
            zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for member in tar:
            name = posixpath.normpath(posixpath.join(prefix, member.name)).lstrip("/")
            if name in ("", ".") or name.startswith(".."):
                continue
            when = datetime.fromtimestamp(member.mtime, UTC).timetuple()[:6]
            if member.isdir():
                info = zipfile.ZipInfo(name + "/", date_time=when)
                info.external_attr = (0o40000 | member.mode) << 16
                archive.writestr(info, b"")
            elif member.isfile():
                info = zipfile.ZipInfo(name, date_time=when)
                info.external_attr = (0o100000 | member.mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                source = tar.extractfile(member)
                with archive.open(info, "w", force_zip64=member.size > 2**31) as target:
                    while block := source.read(1024 * 1024):
                        target.write(block)
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()
