"""Mount namespaces and the POSIX-ish operations processes use on them.

A :class:`MountNamespace` is a container's view: its writable layer at ``/``
plus every volume mounted at its ``mountPath`` (keyed by canonical path, so
a mount shadows what is below it, exactly like a bind mount).  An
:class:`FsView` is one process's handle on it: working directory and
credentials.  Paths are resolved component by component, following
symlinks (absolute targets restart at the container's root, at most 40
hops) and crossing into mounts; errors carry the errno a kernel would
return (``EROFS`` for a read-only mount, ``ENOSPC`` past a capacity,
``EXDEV`` for a rename across mounts, ``ESTALE`` for an NFS export that
was removed on the server).
"""

from __future__ import annotations

import errno
import stat
from typing import Callable, Iterator

from .errors import FsError
from .nodes import (Device, Dir, File, Node, Symlink, Volume, charged_size, mark_removed,
                    tree_size)

MAX_SYMLINKS = 40
NAME_MAX = 255
R, W, X = 4, 2, 1


class Mount:
    """A volume (or a subtree of one) mounted at ``path``."""

    __slots__ = ("path", "volume", "root", "readonly", "source")

    def __init__(self, path: str, volume: Volume, root: Node | None = None,
                 readonly: bool = False, source: str | None = None):
        self.path = path
        self.volume = volume
        self.root = volume.root if root is None else root
        self.readonly = readonly or volume.readonly
        self.source = source or volume.source


class Loc:
    """Where a path resolved: the node (``None`` if missing), its mount, parent and name."""

    __slots__ = ("node", "mount", "parent", "name", "path")

    def __init__(self, node: Node | None, mount: Mount, parent: Dir | None, name: str,
                 path: str):
        self.node = node
        self.mount = mount
        self.parent = parent
        self.name = name
        self.path = path


def normalize(path: str) -> str:
    """Lexically normalized absolute path (``/a/./b/../c`` -> ``/a/c``)."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


class MountNamespace:
    """A container's filesystem tree: a root mount plus mounts by canonical path."""

    def __init__(self, root: Mount, now: Callable[[], float]):
        self.root = root
        self.mounts: dict[str, Mount] = {}
        self.now = now

    def add_mount(self, mount: Mount) -> None:
        """Mount ``mount`` at its path (the mountpoint must exist)."""
        self.mounts[mount.path] = mount

    def mount_list(self) -> list[Mount]:
        """Root first, then mounts in path order (what ``df`` and ``/proc/mounts`` show)."""
        return [self.root] + [self.mounts[p] for p in sorted(self.mounts)]

    def mount_of(self, path: str) -> Mount:
        """The mount a canonical path lies on."""
        best = self.root
        for mpath, mount in self.mounts.items():
            if (path == mpath or path.startswith(mpath + "/")) and len(mpath) > len(best.path):
                best = mount
        return best


class FsView:
    """A process's access to a namespace: cwd, uid/gid, umask."""

    def __init__(self, ns: MountNamespace, cwd: str = "/", uid: int = 0, gid: int = 0,
                 groups: tuple[int, ...] = (), umask: int = 0o022):
        self.ns = ns
        self.cwd = cwd
        self.uid = uid
        self.gid = gid
        self.groups = (gid,) + tuple(groups)
        self.umask = umask

    def fork(self) -> "FsView":
        """A copy for a child process (subshell, pipeline stage)."""
        return FsView(self.ns, self.cwd, self.uid, self.gid, self.groups[1:], self.umask)

    def now(self) -> float:
        """Current (virtual) time for timestamps."""
        return self.ns.now()

    # -- permissions ---------------------------------------------------------
    def may(self, node: Node, want: int) -> bool:
        """Whether this process may read/write/execute ``node``."""
        if self.uid == 0:
            if want & X and not isinstance(node, Dir):
                return bool(node.mode & 0o111)
            return True
        if self.uid == node.uid:
            bits = (node.mode >> 6) & 7
        elif node.gid in self.groups:
            bits = (node.mode >> 3) & 7
        else:
            bits = node.mode & 7
        return bits & want == want

    def _check_write(self, loc: Loc, path: str) -> None:
        mount = loc.mount
        if mount.volume.destroyed:
            raise FsError(errno.EIO, path)
        if mount.readonly:
            raise FsError(errno.EROFS, path)

    # -- resolution ----------------------------------------------------------
    def absolute(self, path: str) -> str:
        """``path`` made absolute against the working directory (not normalized)."""
        if path.startswith("/"):
            return path
        return (self.cwd.rstrip("/") + "/" + path) if self.cwd != "/" else "/" + path

    def walk(self, path: str, follow: bool = True, missing_ok: bool = False) -> Loc:
        """Resolve ``path``; ``missing_ok`` returns a Loc with ``node=None`` for a missing
        last component (whose parent exists), for creating it."""
        if path == "":
            raise FsError(errno.ENOENT, path)
        full = self.absolute(path)
        must_dir = full.endswith("/") or full.endswith("/.") or full.endswith("/..")
        todo = [p for p in full.split("/") if p and p != "."]
        todo.reverse()
        ns = self.ns
        mounts = ns.mounts
        stack: list[tuple[Mount, Node]] = [(ns.root, ns.root.root)]
        names: list[str] = []
        hops = 0
        while todo:
            name = todo.pop()
            if name == "..":
                if len(stack) > 1:
                    stack.pop()
                    names.pop()
                continue
            mount, cur = stack[-1]
            if not isinstance(cur, Dir):
                raise FsError(errno.ENOTDIR, path)
            if cur.removed:
                raise FsError(errno.ESTALE, path)
            if self.uid != 0 and not self.may(cur, X):
                raise FsError(errno.EACCES, path)
            if cur.source is not None:
                cur.source.refresh(cur)
            if len(name) > NAME_MAX:
                raise FsError(errno.ENAMETOOLONG, path)
            child = cur.children.get(name)
            last = not todo
            canonical = "/" + "/".join(names) + ("/" if names else "") + name
            if mounts:
                mounted = mounts.get(canonical)
                if mounted is not None:
                    mount, child = mounted, mounted.root
                    if mounted.volume.destroyed:
                        raise FsError(errno.EIO, path)
            if child is None:
                if last and missing_ok:
                    return Loc(None, mount, cur, name, canonical)
                raise FsError(errno.ENOENT, path)
            if isinstance(child, Symlink) and (not last or follow or must_dir):
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise FsError(errno.ELOOP, path)
                target = child.target
                if target.startswith("/"):
                    del stack[1:]
                    names.clear()
                todo.extend(reversed([p for p in target.split("/") if p and p != "."]))
                continue
            stack.append((mount, child))
            names.append(name)
        mount, node = stack[-1]
        if must_dir and not isinstance(node, Dir):
            raise FsError(errno.ENOTDIR, path)
        if isinstance(node, Dir) and node.removed:
            raise FsError(errno.ESTALE, path)
        parent = stack[-2][1] if len(stack) > 1 else None
        return Loc(node, mount, parent, names[-1] if names else "", "/" + "/".join(names))

    def _parent_for_create(self, path: str) -> Loc:
        if path.rstrip("/") in ("", "/"):
            raise FsError(errno.EEXIST, path)
        loc = self.walk(path.rstrip("/") or path, follow=False, missing_ok=True)
        if loc.parent is None:
            raise FsError(errno.EEXIST, path)
        return loc

    def is_mountpoint(self, loc: Loc) -> bool:
        """Whether ``loc`` is the root of a mount (it cannot be removed or renamed)."""
        return loc.path == "/" or loc.path in self.ns.mounts

    def exists(self, path: str, follow: bool = True) -> bool:
        """Whether ``path`` resolves."""
        try:
            self.walk(path, follow=follow)
        except FsError:
            return False
        return True

    def realpath(self, path: str) -> str:
        """Canonical absolute path (symlinks resolved)."""
        return self.walk(path).path

    # -- reading -------------------------------------------------------------
    def listdir(self, path: str) -> list[str]:
        """Entry names of a directory (unsorted)."""
        loc = self.walk(path)
        return self.list_loc(loc, path)

    def list_loc(self, loc: Loc, path: str = "") -> list[str]:
        """Entry names of an already resolved directory."""
        node = loc.node
        if not isinstance(node, Dir):
            raise FsError(errno.ENOTDIR, path or loc.path)
        if self.uid != 0 and not self.may(node, R):
            raise FsError(errno.EACCES, path or loc.path)
        if node.source is not None:
            node.source.refresh(node)
        return list(node.children)

    def child(self, loc: Loc, name: str) -> Loc:
        """Resolve one entry of a resolved directory without following it (fast walks)."""
        node = loc.node
        path = loc.path.rstrip("/") + "/" + name
        mounted = self.ns.mounts.get(path) if self.ns.mounts else None
        if mounted is not None:
            return Loc(mounted.root, mounted, node, name, path)
        if node.source is not None:
            node.source.refresh(node)
        found = node.children.get(name)
        if found is None:
            raise FsError(errno.ENOENT, path)
        return Loc(found, loc.mount, node, name, path)

    def read_bytes(self, path: str) -> bytes:
        """Whole content of a regular file."""
        loc = self.walk(path)
        node = loc.node
        if isinstance(node, Dir):
            raise FsError(errno.EISDIR, path)
        if self.uid != 0 and not self.may(node, R):
            raise FsError(errno.EACCES, path)
        if isinstance(node, File):
            return bytes(node.data)
        if isinstance(node, Device) and node.device in ("null", "full"):
            return b""
        raise FsError(errno.EINVAL, path)

    def open_read(self, path: str) -> Node:
        """The node to read from (a File or a Device), checking permissions."""
        loc = self.walk(path)
        node = loc.node
        if isinstance(node, Dir):
            raise FsError(errno.EISDIR, path)
        if self.uid != 0 and not self.may(node, R):
            raise FsError(errno.EACCES, path)
        return node

    def readlink(self, path: str) -> str:
        """Target of a symlink (``EINVAL`` for anything else)."""
        node = self.walk(path, follow=False).node
        if not isinstance(node, Symlink):
            raise FsError(errno.EINVAL, path)
        return node.target

    # -- creating and writing ------------------------------------------------
    def _insert(self, loc: Loc, node: Node, path: str) -> None:
        parent = loc.parent
        self._check_write(loc, path)
        if self.uid != 0 and not self.may(parent, W | X):
            raise FsError(errno.EACCES, path)
        if parent.source is not None:
            raise FsError(errno.EROFS, path)
        size = charged_size(node)
        if size:
            loc.mount.volume.charge(size, path)
        parent.children[loc.name] = node
        parent.mtime = parent.ctime = self.now()
        loc.node = node

    def open_write(self, path: str, append: bool = False, truncate: bool = True,
                   create: bool = True, exclusive: bool = False,
                   mode: int = 0o666) -> "WriteHandle | DeviceHandle":
        """Open a file for writing (``>``/``>>``), creating it with ``mode & ~umask``."""
        loc = self.walk(path, missing_ok=create)
        node = loc.node
        if node is None:
            if path.endswith("/"):
                raise FsError(errno.EISDIR, path)
            node = File(bytearray(), mode & ~self.umask & 0o7777, self.uid, self.gid, self.now())
            self._insert(loc, node, path)
            return WriteHandle(node, loc.mount.volume, path, self.now)
        if exclusive:
            raise FsError(errno.EEXIST, path)
        if isinstance(node, Dir):
            raise FsError(errno.EISDIR, path)
        if isinstance(node, Device):
            return DeviceHandle(node, path)
        self._check_write(loc, path)
        if self.uid != 0 and not self.may(node, W):
            raise FsError(errno.EACCES, path)
        handle = WriteHandle(node, loc.mount.volume, path, self.now)
        if truncate and not append:
            handle.truncate(0)
        return handle

    def mkdir(self, path: str, mode: int = 0o777, parents: bool = False) -> Loc:
        """Create a directory (``parents``: like ``mkdir -p``, existing dirs are fine)."""
        if parents:
            full = normalize(self.absolute(path)) if ".." not in path else self.absolute(path)
            parts = [p for p in full.split("/") if p]
            current = "/"
            loc = self.walk("/")
            for i, part in enumerate(parts):
                current = current.rstrip("/") + "/" + part
                try:
                    loc = self.walk(current)
                    if not isinstance(loc.node, Dir):
                        raise FsError(errno.ENOTDIR if i < len(parts) - 1 else errno.EEXIST,
                                      path)
                    continue
                except FsError as exc:
                    if exc.errno != errno.ENOENT:
                        raise
                perm = mode if i == len(parts) - 1 else 0o777
                loc = self._mkdir_one(current, perm, path)
            return loc
        return self._mkdir_one(path, mode, path)

    def _mkdir_one(self, path: str, mode: int, shown: str) -> Loc:
        loc = self._parent_for_create(path)
        if loc.node is not None:
            raise FsError(errno.EEXIST, shown)
        self._insert(loc, Dir(mode & ~self.umask & 0o7777, self.uid, self.gid, self.now()),
                     shown)
        return loc

    def symlink(self, target: str, path: str) -> None:
        """Create a symlink at ``path`` pointing to ``target``."""
        loc = self._parent_for_create(path)
        if loc.node is not None:
            raise FsError(errno.EEXIST, path)
        self._insert(loc, Symlink(target, self.uid, self.gid, self.now()), path)

    def place(self, path: str, node: Node, replace: bool = False) -> Loc:
        """Insert a prepared node (tar extraction, copies); ``replace`` unlinks a non-dir."""
        loc = self._parent_for_create(path)
        if loc.node is not None:
            if not replace or isinstance(loc.node, Dir):
                raise FsError(errno.EEXIST, path)
            self.unlink(path)
            loc = self._parent_for_create(path)
        size = tree_size(node) if isinstance(node, Dir) else 0
        if size:
            self._insert_tree(loc, node, size, path)
        else:
            self._insert(loc, node, path)
        return loc

    def _insert_tree(self, loc: Loc, node: Dir, size: int, path: str) -> None:
        self._check_write(loc, path)
        if self.uid != 0 and not self.may(loc.parent, W | X):
            raise FsError(errno.EACCES, path)
        loc.mount.volume.charge(size, path)
        loc.parent.children[loc.name] = node
        loc.parent.mtime = self.now()
        loc.node = node

    # -- removing and renaming -----------------------------------------------
    def _check_remove(self, loc: Loc, path: str) -> None:
        if self.is_mountpoint(loc):
            raise FsError(errno.EBUSY, path)
        self._check_write(loc, path)
        parent = loc.parent
        if parent.source is not None:
            raise FsError(errno.EROFS, path)
        if self.uid != 0:
            if not self.may(parent, W | X):
                raise FsError(errno.EACCES, path)
            if parent.mode & stat.S_ISVTX and self.uid not in (parent.uid, loc.node.uid):
                raise FsError(errno.EPERM, path)

    def unlink(self, path: str) -> None:
        """Remove a non-directory."""
        loc = self.walk(path, follow=False)
        if isinstance(loc.node, Dir):
            raise FsError(errno.EISDIR, path)
        self._check_remove(loc, path)
        del loc.parent.children[loc.name]
        loc.parent.mtime = self.now()
        size = charged_size(loc.node)
        if size:
            loc.mount.volume.charge(-size)

    def rmdir(self, path: str) -> None:
        """Remove an empty directory."""
        loc = self.walk(path, follow=False)
        node = loc.node
        if not isinstance(node, Dir):
            raise FsError(errno.ENOTDIR, path)
        if node.children and node.source is None:
            raise FsError(errno.ENOTEMPTY, path)
        if loc.parent is None:
            raise FsError(errno.EBUSY, path)
        self._check_remove(loc, path)
        del loc.parent.children[loc.name]
        loc.parent.mtime = self.now()
        mark_removed(node)

    def rename(self, src: str, dst: str) -> None:
        """``rename(2)``: same mount only (``EXDEV`` otherwise); replaces ``dst``."""
        sloc = self.walk(src, follow=False)
        if sloc.parent is None or self.is_mountpoint(sloc):
            raise FsError(errno.EBUSY, src)
        dloc = self._parent_for_create(dst)
        if dloc.mount is not sloc.mount:
            raise FsError(errno.EXDEV, src)
        self._check_remove(sloc, src)
        self._check_write(dloc, dst)
        node = sloc.node
        if isinstance(node, Dir):
            probe = dloc.path + "/"
            if probe.startswith(sloc.path + "/"):
                raise FsError(errno.EINVAL, src)
        existing = dloc.node
        if existing is not None:
            if existing is node:
                return
            if isinstance(node, Dir):
                if not isinstance(existing, Dir):
                    raise FsError(errno.ENOTDIR, dst)
                if existing.children:
                    raise FsError(errno.ENOTEMPTY, dst)
            elif isinstance(existing, Dir):
                raise FsError(errno.EISDIR, dst)
            size = charged_size(existing)
            if size:
                dloc.mount.volume.charge(-size)
        del sloc.parent.children[sloc.name]
        dloc.parent.children[dloc.name] = node
        now = self.now()
        sloc.parent.mtime = dloc.parent.mtime = node.ctime = now

    # -- metadata ------------------------------------------------------------
    def chmod(self, path: str, mode: int, follow: bool = True) -> None:
        """Change permission bits (owner or root only)."""
        loc = self.walk(path, follow=follow)
        self._check_write(loc, path)
        if self.uid not in (0, loc.node.uid):
            raise FsError(errno.EPERM, path)
        node = loc.node
        node.mode = stat.S_IFMT(node.mode) | (mode & 0o7777)
        node.ctime = self.now()

    def chown(self, path: str, uid: int | None, gid: int | None, follow: bool = True) -> None:
        """Change owner/group (root only, as without CAP_CHOWN)."""
        loc = self.walk(path, follow=follow)
        self._check_write(loc, path)
        node = loc.node
        if self.uid != 0 and (uid not in (None, node.uid) or node.uid != self.uid
                              or gid not in (None, *self.groups)):
            raise FsError(errno.EPERM, path)
        if uid is not None:
            node.uid = uid
        if gid is not None:
            node.gid = gid
        node.ctime = self.now()

    def utime(self, path: str, mtime: float, follow: bool = True) -> None:
        """Set the modification time."""
        loc = self.walk(path, follow=follow)
        self._check_write(loc, path)
        if self.uid not in (0, loc.node.uid) and not self.may(loc.node, W):
            raise FsError(errno.EPERM, path)
        loc.node.mtime = mtime
        loc.node.ctime = self.now()

    def walk_tree(self, loc: Loc) -> Iterator[tuple[Loc, int]]:
        """Depth-first pre-order ``(loc, depth)`` below a resolved directory (not following
        symlinks, crossing into mounts below it)."""
        stack = [(loc, 0)]
        while stack:
            current, depth = stack.pop()
            yield current, depth
            if isinstance(current.node, Dir):
                try:
                    names = sorted(self.list_loc(current), reverse=True)
                except FsError:
                    continue
                for name in names:
                    try:
                        stack.append((self.child(current, name), depth + 1))
                    except FsError:
                        continue


class WriteHandle:
    """An open regular file: writes are charged to the volume (partial, then ``ENOSPC``)."""

    __slots__ = ("node", "volume", "path", "now")

    def __init__(self, node: File, volume: Volume, path: str, now: Callable[[], float]):
        self.node = node
        self.volume = volume
        self.path = path
        self.now = now

    def write(self, data) -> None:
        """Append ``data``."""
        n = len(data)
        if not n:
            return
        node = self.node
        volume = self.volume
        if volume.destroyed:
            raise FsError(errno.EIO, self.path)
        if type(node.data) is not bytearray:
            node.data = bytearray(node.data)
        room = volume.available()
        if n > room:
            if room:
                volume.charge(room)
                node.data += data[:room]
            node.mtime = self.now()
            raise FsError(errno.ENOSPC, self.path)
        volume.charge(n)
        node.data += data
        node.mtime = self.now()

    def truncate(self, size: int) -> None:
        """Cut (or zero-extend) the file to ``size`` bytes."""
        node = self.node
        current = len(node.data)
        if size > current:
            self.write(bytes(size - current))
            return
        if size < current:
            self.volume.charge(size - current)
            node.data = bytearray(node.data[:size]) if size else bytearray()
        node.mtime = self.now()


class DeviceHandle:
    """A device opened for writing (``/dev/null``, ``/dev/full``, ``/dev/stdout``)."""

    __slots__ = ("node", "path")

    def __init__(self, node: Device, path: str):
        self.node = node
        self.path = path

    def write(self, data) -> None:
        """Discard (null, zero) or fail (full)."""
        if self.node.device == "full" and data:
            raise FsError(errno.ENOSPC, self.path)

    def truncate(self, size: int) -> None:
        """Devices ignore truncation."""
