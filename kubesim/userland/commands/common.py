"""Helpers shared by the commands: owners, modes, sizes, times, recursive copy."""

from __future__ import annotations

import errno
import math
import re
import stat as stat_mod
import time

from ...fs.errors import FsError
from ...fs.nodes import Device, Dir, File, Node, Symlink
from ...fs.vfs import FsView, Loc

_UNITS = {"": 1, "c": 1, "w": 2, "b": 512, "k": 1024, "K": 1024, "M": 1024 ** 2,
          "G": 1024 ** 3, "T": 1024 ** 4, "P": 1024 ** 5, "E": 1024 ** 6}


def parse_size(text: str) -> int:
    """``10``, ``4K``, ``1M``, ``2MB`` (1000-based), ``1MiB`` -> bytes (``ValueError``)."""
    m = re.fullmatch(r"(\d+)([bcwkKMGTPE]?)(iB|B)?", text.strip())
    if not m:
        raise ValueError(text)
    number, unit, suffix = int(m.group(1)), m.group(2), m.group(3)
    if suffix == "B" and unit:
        return number * 1000 ** ("kKMGTPE".index(unit) if unit in "KMGTPE" else 1)
    return number * _UNITS[unit]


class Names:
    """uid/gid <-> name from the container's /etc/passwd and /etc/group."""

    def __init__(self, fs: FsView):
        self.users: dict[int, str] = {}
        self.groups: dict[int, str] = {}
        for path, target in (("/etc/passwd", self.users), ("/etc/group", self.groups)):
            try:
                text = fs.read_bytes(path).decode(errors="replace")
            except FsError:
                continue
            for line in text.splitlines():
                fields = line.split(":")
                if len(fields) >= 3 and fields[2].isdigit():
                    target.setdefault(int(fields[2]), fields[0])

    def user(self, uid: int) -> str:
        """Name of a uid (the number if unknown)."""
        return self.users.get(uid, str(uid))

    def group(self, gid: int) -> str:
        """Name of a gid (the number if unknown)."""
        return self.groups.get(gid, str(gid))

    def uid_of(self, name: str) -> int | None:
        """uid for a name or number."""
        if name.isdigit():
            return int(name)
        return next((u for u, n in self.users.items() if n == name), None)

    def gid_of(self, name: str) -> int | None:
        """gid for a name or number."""
        if name.isdigit():
            return int(name)
        return next((g for g, n in self.groups.items() if n == name), None)


def mode_string(node: Node) -> str:
    """``drwxr-xr-x``."""
    return stat_mod.filemode(node.mode)


def nlink(node: Node) -> int:
    """Link count as ext4 reports it (directories: 2 + subdirectories)."""
    if isinstance(node, Dir):
        return 2 + sum(1 for c in node.children.values() if isinstance(c, Dir))
    return 1


def blocks_of(node: Node) -> int:
    """``st_blocks`` (512-byte units, 4 KiB allocation)."""
    if isinstance(node, Dir):
        return 8
    if isinstance(node, Symlink) or isinstance(node, Device):
        return 0
    size = node.size()
    return ((size + 4095) // 4096) * 8


def file_type(node: Node) -> str:
    """``stat %F`` wording."""
    if isinstance(node, Dir):
        return "directory"
    if isinstance(node, Symlink):
        return "symbolic link"
    if isinstance(node, Device):
        return "character special file"
    return "regular empty file" if node.size() == 0 else "regular file"


def ls_time(ts: float, now: float) -> str:
    """``Jan  2 15:04`` (within six months) or ``Jan  2  2006``."""
    t = time.gmtime(ts)
    if abs(now - ts) < 182.5 * 86400:
        return time.strftime("%b %e %H:%M", t)
    return time.strftime("%b %e  %Y", t)


def full_time(ts: float) -> str:
    """``2006-01-02 15:04:05.000000000 +0000`` (stat)."""
    whole = int(ts)
    nanos = int(round((ts - whole) * 1e9))
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + f".{nanos:09d} +0000"


def human(n: float, si: bool = False) -> str:
    """``ls -h`` / ``du -h`` / ``df -h`` sizes, rounded up like coreutils (``1.5K``, ``12M``)."""
    base = 1000 if si else 1024
    units = "kMGTPE" if si else "KMGTPE"
    if n < base:
        return str(int(n))
    value, i = float(n), -1
    while value >= base and i < len(units) - 1:
        value /= base
        i += 1
    if value < 10:
        shown = math.ceil(value * 10) / 10
        if shown < 10:
            return f"{shown:.1f}{units[i]}"
        value = shown
    rounded = math.ceil(value)
    if rounded >= base and i < len(units) - 1:
        return f"1.0{units[i + 1]}"
    return f"{rounded}{units[i]}"


def parse_mode(spec: str, current: int, is_dir: bool, umask: int = 0o022) -> int:
    """Apply an octal or symbolic chmod mode (``755``, ``u+x,go-w``, ``a=rX``)."""
    if re.fullmatch(r"[0-7]{1,4}", spec):
        value = int(spec, 8)
        if len(spec) <= 3 and is_dir:
            value |= current & 0o6000  # directories keep setuid/setgid (GNU)
        return value
    mode = current & 0o7777
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=][rwxXst]*)+", clause)
        if not m:
            raise ValueError(spec)
        who = m.group(1) or "a"
        rest = clause[len(m.group(1)):]
        for op, perms in re.findall(r"([-+=])([rwxXst]*)", rest):
            bits = 0
            for p in perms:
                if p == "r":
                    bits |= 0o444
                elif p == "w":
                    bits |= 0o222
                elif p == "x" or (p == "X" and (is_dir or current & 0o111)):
                    bits |= 0o111
                elif p == "s":
                    bits |= 0o6000
                elif p == "t":
                    bits |= 0o1000
            mask = 0
            if "a" in who or not m.group(1):
                mask |= 0o7777
            if "u" in who:
                mask |= 0o4700
            if "g" in who:
                mask |= 0o2070
            if "o" in who:
                mask |= 0o1007
            applied = bits & mask
            if not m.group(1):
                applied &= ~umask | 0o7000
            if op == "+":
                mode |= applied
            elif op == "-":
                mode &= ~applied
            else:
                mode = (mode & ~mask) | applied
    return mode


def copy_node(fs: FsView, src: Loc, dst_path: str, *, recursive: bool, preserve: bool,
              follow: bool, no_clobber: bool = False, errors: list | None = None) -> None:
    """Copy ``src`` to ``dst_path`` (``cp``'s engine); per-file failures go to ``errors``
    as ``(path, FsError, verb)``; a failure to write raises."""
    errors = errors if errors is not None else []
    node = src.node
    now = fs.now()
    if isinstance(node, Symlink) and follow:
        src = fs.walk(src.path)
        node = src.node
    try:
        existing = fs.walk(dst_path, follow=False)
    except FsError as exc:
        if exc.errno != errno.ENOENT:
            raise
        existing = None
    if isinstance(node, Dir):
        if existing is not None and isinstance(existing.node, Symlink):
            existing = fs.walk(dst_path)
        if existing is None:
            fs.mkdir(dst_path, node.perm if preserve else node.perm & ~fs.umask | 0o700)
        elif not isinstance(existing.node, Dir):
            raise FsError(errno.ENOTDIR, dst_path)
        try:
            names = sorted(fs.list_loc(src, src.path))
        except FsError as exc:
            errors.append((src.path, exc, "cannot open directory"))
            names = []
        for name in names:
            try:
                child = fs.child(src, name)
            except FsError as exc:
                errors.append((src.path + "/" + name, exc, "cannot stat"))
                continue
            try:
                copy_node(fs, child, dst_path.rstrip("/") + "/" + name, recursive=True,
                          preserve=preserve, follow=False, no_clobber=no_clobber,
                          errors=errors)
            except FsError as exc:
                if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EIO):
                    raise
                errors.append((dst_path.rstrip("/") + "/" + name, exc, "cannot create"))
        target = fs.walk(dst_path)
        if preserve:
            _preserve(fs, target, node)
        elif existing is None:
            target.node.mtime = now
        return
    if existing is not None:
        if no_clobber:
            return
        if isinstance(existing.node, Dir):
            raise FsError(errno.EISDIR, dst_path)
    if isinstance(node, Symlink):
        if existing is not None:
            fs.unlink(dst_path)
        fs.symlink(node.target, dst_path)
        if preserve:
            _preserve(fs, fs.walk(dst_path, follow=False), node)
        return
    if isinstance(node, Device):
        if existing is None:
            fs.place(dst_path, Device(node.device, node.rdev, node.perm, now))
        return
    if not isinstance(node, File):
        return
    if fs.uid != 0 and not fs.may(node, 4):
        raise FsError(errno.EACCES, src.path)
    size = node.size()
    if existing is not None and isinstance(existing.node, File):
        fs.open_write(dst_path).write(node.data)
    else:
        loc = fs.walk(dst_path, missing_ok=True)
        volume = loc.mount.volume
        perm = node.perm if preserve else node.perm & ~fs.umask
        if loc.node is None and volume.available() >= size:
            fs.place(dst_path, File(node.shared(), perm, fs.uid, fs.gid, now))
        else:
            handle = fs.open_write(dst_path, mode=perm)
            handle.write(node.data)
        loc = fs.walk(dst_path)
    if preserve:
        _preserve(fs, loc, node)


def _preserve(fs: FsView, loc: Loc, src: Node) -> None:
    node = loc.node
    node.mtime = src.mtime
    if isinstance(node, Symlink):
        if fs.uid == 0:
            node.uid, node.gid = src.uid, src.gid
        return
    node.mode = (node.mode & ~0o7777) | src.perm
    if fs.uid == 0:
        node.uid, node.gid = src.uid, src.gid
