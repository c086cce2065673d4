"""The image every simulated container starts from: a small Alpine-like tree.

Executables in ``/bin`` are "applets": tiny files whose content names a
command of the simulated userland (see :mod:`kubesim.userland`), so ``ls
/bin`` lists what can be run, ``cp /bin/ls /tmp/x && /tmp/x`` works and ``rm
/bin/tar`` really removes ``tar``.  The template tree is built once and cloned
(file contents shared) when a container's filesystem is first needed.
"""

from __future__ import annotations

from typing import Iterable

from .nodes import Device, Dir, File, Node, Symlink

APPLET_MAGIC = b"\x7fELF\x02\x01\x01\x00kubesim-applet:"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "daemon:x:1:1:daemon:/usr/sbin:/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/:/sbin/nologin\n")
GROUP = "root:x:0:root\ndaemon:x:1:\nusers:x:100:\nnogroup:x:65533:\nnobody:x:65534:\n"
OS_RELEASE = ('NAME="kubesim"\nID=kubesim\nVERSION_ID=1\n'
              'PRETTY_NAME="kubesim simulated container (Alpine-like, GNU userland)"\n')
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
           "urandom": (1, 9), "tty": (5, 0), "stdin": (136, 0), "stdout": (136, 1),
           "stderr": (136, 2)}

_templates: dict[tuple[str, ...], Dir] = {}


def applet_bytes(name: str) -> bytes:
    """Content of the executable for ``name``."""
    return APPLET_MAGIC + name.encode() + b"\n"


def applet_name(data: bytes | bytearray) -> str | None:
    """The applet an executable runs, or ``None`` if it is not one."""
    if not data.startswith(APPLET_MAGIC):
        return None
    return bytes(data[len(APPLET_MAGIC):]).split(b"\n", 1)[0].decode(errors="replace")


def _dir(parent: Dir, name: str, perm: int = 0o755) -> Dir:
    node = Dir(perm)
    parent.children[name] = node
    return node


def template(applets: Iterable[str]) -> Dir:
    """The shared, never-modified image tree for this set of applets."""
    key = tuple(sorted(applets))
    if key in _templates:
        return _templates[key]
    root = Dir(0o755)
    bin_ = _dir(root, "bin")
    for name in key:
        bin_.children[name] = File(applet_bytes(name), 0o755)
    dev = _dir(root, "dev")
    for name, rdev in DEVICES.items():
        dev.children[name] = Device(name, rdev, 0o620 if name == "tty" else 0o666)
    _dir(dev, "shm", 0o1777)
    etc = _dir(root, "etc")
    etc.children["passwd"] = File(PASSWD.encode())
    etc.children["group"] = File(GROUP.encode())
    etc.children["os-release"] = File(OS_RELEASE.encode())
    etc.children["shells"] = File(b"/bin/sh\n/bin/ash\n")
    for name in ("home", "lib", "mnt", "opt", "run", "sbin", "srv"):
        _dir(root, name)
    _dir(root, "root", 0o700)
    _dir(root, "tmp", 0o1777)
    usr = _dir(root, "usr")
    usr_bin = _dir(usr, "bin")
    usr_bin.children["env"] = File(applet_bytes("env"), 0o755)
    for name in ("lib", "sbin", "share"):
        _dir(usr, name)
    local = _dir(usr, "local")
    _dir(local, "bin")
    _dir(local, "sbin")
    var = _dir(root, "var")
    for name in ("cache", "lib", "log", "spool"):
        _dir(var, name)
    _dir(var, "tmp", 0o1777)
    var.children["run"] = Symlink("../run")
    _templates[key] = root
    return root


def stamp(node: Node, mtime: float) -> None:
    """Set every timestamp in a (freshly cloned) tree."""
    todo = [node]
    while todo:
        current = todo.pop()
        current.mtime = current.ctime = mtime
        if isinstance(current, Dir):
            todo.extend(current.children.values())


# Images whose real layout gives a non-root user a home: (repository substring, path, uid, gid).
# The Jupyter Docker Stacks run as jovyan (1000:100) in /home/jovyan, which that user owns.
USER_HOMES = (("jupyter", "/home/jovyan", 1000, 100), ("jupyter", "/home/jovyan/work", 1000, 100))


def user_homes(image_ref: str) -> list[tuple[str, int, int]]:
    """Directories the image ships owned by its user (``(path, uid, gid)``), outermost first."""
    return [(path, uid, gid) for needle, path, uid, gid in USER_HOMES if needle in (image_ref or "")]
