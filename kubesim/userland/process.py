"""Simulated processes: what every command gets, and GNU-style option parsing.

A command is ``async def main(proc, argv) -> int``.  ``proc`` carries the
filesystem view (cwd, credentials), the environment and the three standard
streams; ``proc.ctx`` the container it runs in.  Output errors end a command
the way they end a real one: ``EPIPE`` silently with status 141 (SIGPIPE),
anything else with ``<cmd>: write error: <reason>`` and status 1.
"""

from __future__ import annotations

import errno
import getopt
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from ..fs.errors import FsError
from ..fs.nodes import Device, File
from ..fs.vfs import FsView
from .streams import FileReader, FileWriter, Reader, Writer, device_reader

SIGPIPE_STATUS = 141
SIGKILL_STATUS = 137


@dataclass
class Context:
    """The container a process runs in."""

    namespace: str
    pod: str
    container: str
    hostname: str
    now: Callable[[], float] = time.time
    tty: bool = False
    applets: dict = field(default_factory=dict)
    pod_ip: str = ""
    node: str = ""
    cpus: int = 4
    last_pid: int = 100
    # Keeps a background job running after its shell exits (kubesim registers it with the
    # container, which kills it when it stops).
    detach: Callable[[object], None] = lambda task: None

    def next_pid(self) -> int:
        """A fresh process id for ``$$`` / ``$!``."""
        self.last_pid += 1
        return self.last_pid


class UsageError(Exception):
    """Bad command line: the message is printed with the ``Try --help`` hint."""

    def __init__(self, message: str, status: int = 1, hint: bool = True):
        super().__init__(message)
        self.status = status
        self.hint = hint


class Proc:
    """One running command."""

    def __init__(self, ctx: Context, fs: FsView, env: dict, stdin: Reader, stdout: Writer,
                 stderr: Writer, name: str = "sh", fds: dict | None = None):
        self.ctx = ctx
        self.fs = fs
        self.env = env
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.name = name
        self.fds = fds or {}

    async def out(self, data: str | bytes) -> None:
        """Write to stdout."""
        await self.stdout.write(data.encode() if isinstance(data, str) else data)

    async def err(self, message: str) -> None:
        """``name: message`` on stderr."""
        try:
            await self.stderr.write(f"{self.name}: {message}\n".encode())
        except FsError:
            pass

    async def err_raw(self, text: str) -> None:
        """Write ``text`` to stderr as is."""
        try:
            await self.stderr.write(text.encode())
        except FsError:
            pass

    def open_input(self, path: str) -> Reader:
        """A reader for a path (``-`` is stdin); raises :class:`FsError`."""
        if path == "-":
            return self.stdin
        node = self.fs.open_read(path)
        if isinstance(node, File):
            return FileReader(node)
        if isinstance(node, Device):
            return device_reader(node, self.stdin)
        raise FsError(errno.EINVAL, path)

    def open_output(self, path: str, append: bool = False) -> Writer:
        """A writer for a path (``/dev/stdout`` and friends are this process's streams)."""
        handle = self.fs.open_write(path, append=append)
        node = handle.node
        if isinstance(node, Device):
            if node.device in ("stdout", "tty"):
                return self.stdout
            if node.device == "stderr":
                return self.stderr
        return FileWriter(handle)


_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%^=")


def quote(path: str) -> str:
    """coreutils ``quote()``: always quoted (``'x'``; ``"it's"``)."""
    if "'" in path:
        return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"'{path}'"


def quotef(path: str) -> str:
    """coreutils ``quotef()``: quoted only when the name needs it."""
    if path and all(c in _SAFE for c in path):
        return path
    return quote(path)


def parse(proc: Proc, argv: list[str], short: str, long: list[str] | None = None,
          permute: bool = True) -> tuple[list[tuple[str, str]], list[str]]:
    """getopt with GNU messages; raises :class:`UsageError`."""
    try:
        if permute:
            return getopt.gnu_getopt(argv, short, long or [])
        return getopt.getopt(argv, short, long or [])
    except getopt.GetoptError as exc:
        opt = exc.opt or ""
        text = exc.msg
        if "requires argument" in text:
            if len(opt) == 1:
                raise UsageError(f"option requires an argument -- '{opt}'") from None
            raise UsageError(f"option '--{opt}' requires an argument") from None
        if "must not have an argument" in text:
            raise UsageError(f"option '--{opt}' doesn't allow an argument") from None
        if "not a unique prefix" in text:
            raise UsageError(f"option '--{opt}' is ambiguous") from None
        if len(opt) == 1:
            raise UsageError(f"invalid option -- '{opt}'") from None
        raise UsageError(f"unrecognized option '--{opt}'") from None


Main = Callable[[Proc, list[str]], Awaitable[int]]


async def run_main(main: Main, proc: Proc, argv: list[str]) -> int:
    """Run a command, turning usage and output errors into messages and statuses."""
    try:
        status = await main(proc, argv)
        await proc.stdout.flush()
        return status
    except UsageError as exc:
        await proc.err(str(exc))
        if exc.hint:
            try:
                await proc.stderr.write(
                    f"Try '{proc.name} --help' for more information.\n".encode())
            except FsError:
                pass
        return exc.status
    except FsError as exc:
        if exc.errno == errno.EPIPE:
            return SIGPIPE_STATUS
        await proc.err(f"write error: {exc.strerror}")
        return 1
