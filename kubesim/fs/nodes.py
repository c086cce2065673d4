"""In-memory inodes and the volumes (filesystems) that hold them.

A :class:`Volume` is one mounted filesystem: a container's writable layer, an
``emptyDir``, a PVC's data, a ConfigMap projection.  It counts the bytes of
the files it holds against its own ``capacity`` (a PVC's
``resources.requests.storage``, an emptyDir's ``sizeLimit``) and against the
simulator-wide :class:`Budget`, so a runaway write fails with ``ENOSPC``
instead of eating the host's memory.

File contents are ``bytes`` (shareable) or ``bytearray`` (being written).
Copies (``cp -a``, a PVC clone) share the ``bytes`` of their source; the first
write to either side makes a private ``bytearray`` - copy-on-write.  Only file
data and symlink targets are charged; directories and inodes are free.
"""

from __future__ import annotations

import errno
import itertools
import stat

from .errors import FsError

_inodes = itertools.count(2)
_minors = itertools.count(40)
DIR_SIZE = 4096


class Node:
    """An inode: permission bits, owner and times (``mode`` includes the type bits)."""

    __slots__ = ("mode", "uid", "gid", "mtime", "ctime", "ino")
    kind = "?"

    def __init__(self, mode: int, uid: int = 0, gid: int = 0, mtime: float = 0.0):
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.ctime = mtime
        self.ino = next(_inodes)

    @property
    def perm(self) -> int:
        """Permission bits including setuid/setgid/sticky."""
        return stat.S_IMODE(self.mode)

    def size(self) -> int:
        """``st_size``."""
        return 0


class Dir(Node):
    """A directory.  ``source`` (projected volumes) refreshes ``children`` on access."""

    __slots__ = ("children", "source", "removed")
    kind = "d"

    def __init__(self, perm: int = 0o755, uid: int = 0, gid: int = 0, mtime: float = 0.0):
        super().__init__(stat.S_IFDIR | perm, uid, gid, mtime)
        self.children: dict[str, Node] = {}
        self.source = None
        self.removed = False

    def size(self) -> int:
        return DIR_SIZE


class File(Node):
    """A regular file."""

    __slots__ = ("data",)
    kind = "f"

    def __init__(self, data: bytes | bytearray = b"", perm: int = 0o644, uid: int = 0,
                 gid: int = 0, mtime: float = 0.0):
        super().__init__(stat.S_IFREG | perm, uid, gid, mtime)
        self.data = data

    def size(self) -> int:
        return len(self.data)

    def shared(self) -> bytes:
        """The content as immutable ``bytes`` another file may share (copy-on-write)."""
        if type(self.data) is not bytes:
            self.data = bytes(self.data)
        return self.data


class Symlink(Node):
    """A symbolic link."""

    __slots__ = ("target",)
    kind = "l"

    def __init__(self, target: str, uid: int = 0, gid: int = 0, mtime: float = 0.0):
        super().__init__(stat.S_IFLNK | 0o777, uid, gid, mtime)
        self.target = target

    def size(self) -> int:
        return len(self.target.encode())


class Device(Node):
    """A character device (``/dev/null``, ``/dev/zero``, ``/dev/stdout`` ...)."""

    __slots__ = ("device", "rdev")
    kind = "c"

    def __init__(self, device: str, rdev: tuple[int, int], perm: int = 0o666,
                 mtime: float = 0.0):
        super().__init__(stat.S_IFCHR | perm, 0, 0, mtime)
        self.device = device
        self.rdev = rdev


def charged_size(node: Node) -> int:
    """Bytes a node counts against its volume."""
    if isinstance(node, (File, Symlink)):
        return node.size()
    return 0


def tree_size(node: Node) -> int:
    """Charged bytes of ``node`` and everything below it."""
    if not isinstance(node, Dir):
        return charged_size(node)
    total, todo = 0, [node]
    while todo:
        for child in todo.pop().children.values():
            if isinstance(child, Dir):
                todo.append(child)
            else:
                total += charged_size(child)
    return total


def mark_removed(node: Node) -> None:
    """Flag a detached directory tree (NFS clients holding it see ``ESTALE``)."""
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, Dir):
            current.removed = True
            todo.extend(c for c in current.children.values() if isinstance(c, Dir))


def clone(node: Node, now: float | None = None, preserve: bool = True, uid: int = 0,
          gid: int = 0) -> Node:
    """Deep copy of a tree, sharing file contents; ``preserve`` keeps modes, owners, times."""
    def copy_one(src: Node) -> Node:
        mtime = src.mtime if preserve or now is None else now
        owner = (src.uid, src.gid) if preserve else (uid, gid)
        if isinstance(src, Dir):
            return Dir(src.perm, *owner, mtime)
        if isinstance(src, File):
            return File(src.shared(), src.perm, *owner, mtime)
        if isinstance(src, Symlink):
            return Symlink(src.target, *owner, mtime)
        if isinstance(src, Device):
            return Device(src.device, src.rdev, src.perm, mtime)
        raise FsError(errno.EINVAL)

    top = copy_one(node)
    todo = [(node, top)]
    while todo:
        src, dst = todo.pop()
        if not isinstance(src, Dir):
            continue
        if src.source is not None:
            src.source.refresh(src)
        for name, child in src.children.items():
            copied = copy_one(child)
            dst.children[name] = copied
            todo.append((child, copied))
    return top


class Budget:
    """Bytes every simulated filesystem together may hold (``--fs-budget``)."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int):
        self.limit = int(limit)
        self.used = 0


class Volume:
    """One filesystem: a tree, its capacity and usage, how ``df`` names it."""

    __slots__ = ("root", "fstype", "source", "capacity", "used", "budget", "readonly", "dev",
                 "destroyed", "size_hint")

    def __init__(self, root: Node, budget: Budget, *, fstype: str = "overlay",
                 source: str = "overlay", capacity: int | None = None, readonly: bool = False,
                 size_hint: int | None = None):
        self.root = root
        self.fstype = fstype
        self.source = source
        self.capacity = capacity
        self.used = 0
        self.budget = budget
        self.readonly = readonly
        self.dev = (0, next(_minors))
        self.destroyed = False
        # What df reports as the size when there is no capacity (the node's disk).
        self.size_hint = size_hint

    def available(self) -> int:
        """Bytes that can still be written here."""
        room = self.budget.limit - self.budget.used
        if self.capacity is not None:
            room = min(room, self.capacity - self.used)
        return max(0, room)

    def total(self) -> int:
        """Size ``df`` shows."""
        if self.capacity is not None:
            return self.capacity
        return self.size_hint or self.budget.limit

    def charge(self, delta: int, path: str = "") -> None:
        """Account ``delta`` bytes (negative frees); ``ENOSPC`` if they do not fit."""
        if delta > 0 and delta > self.available():
            raise FsError(errno.ENOSPC, path)
        self.used += delta
        self.budget.used += delta

    def destroy(self) -> None:
        """Give every byte back; later access through a stale mount fails with ``EIO``."""
        self.budget.used -= self.used
        self.used = 0
        self.destroyed = True
        if isinstance(self.root, Dir):
            mark_removed(self.root)
