"""Starting programs from the container filesystem (``execvp`` for the simulated userland).

Used by the shell for external commands, by ``env``/``xargs``/``find -exec``,
and by the exec endpoint for the container's top-level command, where a
missing binary fails the way runc reports it.
"""

from __future__ import annotations

import errno

from ..fs.errors import FsError
from ..fs.image import applet_name
from ..fs.nodes import Dir, File
from .process import Proc, run_main


def find_program(fs, name: str, path_env: str) -> tuple[str, File] | int:
    """Resolve ``name`` like ``execvp``: ``(path, file)`` or an errno."""
    if "/" in name:
        try:
            node = fs.walk(name).node
        except FsError as exc:
            return exc.errno
        if isinstance(node, File):
            return name, node
        return errno.EACCES
    denied = False
    for directory in path_env.split(":"):
        candidate = f"{directory or '.'}/{name}"
        try:
            node = fs.walk(candidate).node
        except FsError:
            continue
        if isinstance(node, File):
            if fs.may(node, 1):
                return candidate, node
            denied = True
        elif isinstance(node, Dir):
            continue
    return errno.EACCES if denied else errno.ENOENT


def resolve_program(fs, path: str, node: File, argv: list[str],
                    depth: int = 0) -> tuple[str, list[str]] | str:
    """``(applet, argv)`` for an executable file, or an error text (``Exec format error``).

    Applets run directly; ``#!interpreter [arg]`` scripts run their interpreter
    with the script path; a text file without ``#!`` is run by ``sh`` (what a
    shell does on ENOEXEC).
    """
    data = node.data
    applet = applet_name(data)
    if applet is not None:
        return applet, list(argv)
    if data.startswith(b"#!") and depth < 4:
        end = data.find(b"\n")
        line = bytes(data[2:end if end >= 0 else len(data)]).decode(errors="replace").strip()
        parts = line.split(None, 1)
        if not parts:
            return "Exec format error"
        interpreter = parts[0]
        try:
            inode = fs.walk(interpreter).node
        except FsError:
            return "not found"
        if not isinstance(inode, File):
            return "Permission denied"
        return resolve_program(fs, interpreter, inode, [interpreter] + parts[1:] + [path]
                               + list(argv[1:]), depth + 1)
    if b"\0" in bytes(data[:512]):
        return "Exec format error"
    return "sh", ["sh", path] + list(argv[1:])


async def run_program(proc: Proc, argv: list[str], env: dict | None = None,
                      stdin=None, stdout=None, stderr=None) -> int | tuple[int, str]:
    """Run ``argv`` found through ``PATH``; returns the status, or ``(errno, text)`` when
    the program cannot be started (the caller words the message)."""
    env = dict(proc.env if env is None else env)
    found = find_program(proc.fs, argv[0], env.get("PATH", ""))
    if isinstance(found, int):
        return found, FsError(found).strerror
    path, node = found
    if not proc.fs.may(node, 1):
        return errno.EACCES, FsError(errno.EACCES).strerror
    resolved = resolve_program(proc.fs, path, node, argv)
    if isinstance(resolved, str):
        return errno.ENOEXEC, resolved
    applet, args = resolved
    main = proc.ctx.applets.get(applet)
    if main is None:
        return errno.ENOEXEC, "Exec format error"
    child = Proc(proc.ctx, proc.fs.fork(), env, stdin or proc.stdin, stdout or proc.stdout,
                 stderr or proc.stderr, name=args[0].rsplit("/", 1)[-1])
    child.argv0 = args[0]
    return await run_main(main, child, args[1:])
