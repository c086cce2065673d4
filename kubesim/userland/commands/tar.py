"""GNU ``tar``: create, extract and list real tar streams, optionally gzipped.

Streams in both directions (no archive is held in memory), so ``kubectl cp``
(``tar cf - /path`` and ``tar -xmf - -C /dir``) moves large files at memory
speed.  Headers are encoded and decoded by the standard library's
``tarfile.TarInfo`` (GNU format on output; ustar, GNU long names and pax
headers on input).  Options: ``c x t`` (old-style bundles such as ``xmf`` or
``czf`` too), ``-f FILE|-``, ``-C DIR``, ``-z``, ``-v``, ``-m/--touch``,
``-p``, ``--no-same-owner``/``-o``, ``--same-owner``, ``--no-same-permissions``,
``--numeric-owner``, ``-O/--to-stdout``, ``-k``, ``--exclude=PATTERN``,
``--strip-components=N``, ``-h``, ``-P``.  Hard links are extracted as
copies; device and FIFO members are skipped.
"""

from __future__ import annotations

import errno
import fnmatch
import tarfile
import time
import zlib

from ...fs.errors import FsError
from ...fs.nodes import Device, Dir, File, Symlink
from ...fs.vfs import Loc
from ..process import Proc, quotef
from ..streams import CHUNK, Reader, Writer
from .common import Names

BLOCK = 512
RECORD = 10240
TAKES_ARG = set("fCTXbN")
LONG = {"--create": "c", "--extract": "x", "--get": "x", "--list": "t", "--gzip": "z",
        "--gunzip": "z", "--verbose": "v", "--touch": "m", "--preserve-permissions": "p",
        "--same-permissions": "p", "--to-stdout": "O", "--keep-old-files": "k",
        "--dereference": "h", "--absolute-names": "P", "--file": "f", "--directory": "C",
        "--auto-compress": "a", "--bzip2": "j", "--xz": "J", "--append": "r",
        "--update": "u", "--one-file-system": "one"}


class TarUsage(Exception):
    pass


def parse_args(argv: list[str]) -> tuple[set[str], dict, list[tuple[str, str]]]:
    """(flags, settings, ordered operands as ('path'|'chdir', value))."""
    flags: set[str] = set()
    settings = {"file": None, "exclude": [], "strip": 0, "chdir": None}
    operands: list[tuple[str, str]] = []
    args = list(argv)
    if args and not args[0].startswith("-"):
        letters, args = args[0], args[1:]
        pending = []
        for letter in letters:
            flags.add(letter)
            if letter in TAKES_ARG:
                pending.append(letter)
        for letter in pending:
            if not args:
                raise TarUsage(f"option requires an argument -- '{letter}'")
            _take(letter, args.pop(0), settings, operands)
    i = 0
    only_operands = False
    while i < len(args):
        arg = args[i]
        i += 1
        if only_operands or not arg.startswith("-") or arg == "-":
            operands.append(("path", arg))
            continue
        if arg == "--":
            only_operands = True
            continue
        if arg.startswith("--"):
            name, sep, value = arg.partition("=")
            if name in ("--file", "--directory", "--exclude", "--strip-components",
                        "--files-from", "--owner", "--group", "--mode", "--mtime",
                        "--warning", "--blocking-factor", "--format", "-H", "--label",
                        "--transform", "--xform", "--exclude-from"):
                if not sep:
                    if i >= len(args):
                        raise TarUsage(f"option '{name}' requires an argument")
                    value = args[i]
                    i += 1
                if name == "--file":
                    _take("f", value, settings, operands)
                elif name == "--directory":
                    _take("C", value, settings, operands)
                elif name == "--exclude":
                    settings["exclude"].append(value)
                elif name == "--strip-components":
                    if not value.isdigit():
                        raise TarUsage(f"Invalid number of elements: {quotef(value)}")
                    settings["strip"] = int(value)
                else:
                    settings[name.lstrip("-")] = value
                continue
            if name in LONG:
                flags.add(LONG[name])
                continue
            if name in ("--no-same-owner", "--same-owner", "--no-same-permissions",
                        "--numeric-owner", "--overwrite", "--unlink-first",
                        "--no-overwrite-dir", "--totals", "--no-recursion", "--recursion",
                        "--ignore-zeros", "--wildcards", "--no-wildcards", "--sparse",
                        "--checkpoint", "--full-time", "--show-transformed-names",
                        "--preserve-order", "--same-order", "--delay-directory-restore",
                        "--no-selinux", "--no-xattrs", "--no-acls", "--xattrs", "--acls",
                        "--selinux"):
                flags.add(name)
                continue
            raise TarUsage(f"unrecognized option '{arg}'")
        letters = arg[1:]
        for j, letter in enumerate(letters):
            if letter in TAKES_ARG:
                value = letters[j + 1:]
                if not value:
                    if i >= len(args):
                        raise TarUsage(f"option requires an argument -- '{letter}'")
                    value = args[i]
                    i += 1
                _take(letter, value, settings, operands)
                break
            if letter not in "cxtzvmpoOkhPajJruwlSZWBis":
                raise TarUsage(f"invalid option -- '{letter}'")
            flags.add(letter)
    return flags, settings, operands


def _take(letter: str, value: str, settings: dict, operands: list) -> None:
    if letter == "f":
        settings["file"] = value
    elif letter == "C":
        operands.append(("chdir", value))
        settings["chdir"] = value
    elif letter == "T":
        settings["files-from"] = value
    elif letter == "X":
        settings["exclude-from"] = value


class GzipWriter(Writer):
    """Compresses into another writer."""

    def __init__(self, inner: Writer):
        self.inner = inner
        self.z = zlib.compressobj(6, zlib.DEFLATED, 31)

    async def write(self, data: bytes) -> None:
        out = self.z.compress(data)
        if out:
            await self.inner.write(out)

    async def finish(self) -> None:
        await self.inner.write(self.z.flush())


class GzipReader(Reader):
    """Decompresses gzip (or zlib) from another reader."""

    def __init__(self, inner: Reader):
        super().__init__()
        self.inner = inner
        self.z = zlib.decompressobj(47)
        self.done = False

    async def _fill(self) -> bytes:
        while not self.done:
            chunk = await self.inner.read(CHUNK)
            if not chunk:
                self.done = True
                return self.z.flush()
            out = self.z.decompress(chunk)
            if self.z.eof:
                rest = self.z.unused_data
                self.z = zlib.decompressobj(47)
                if rest:
                    out += self.z.decompress(rest)
            if out:
                return out
        return b""


class _Counter(Writer):
    def __init__(self, inner: Writer):
        self.inner = inner
        self.count = 0

    async def write(self, data) -> None:
        self.count += len(data)
        await self.inner.write(data)

    async def flush(self) -> None:
        await self.inner.flush()


async def tar(proc: Proc, argv: list[str]) -> int:
    try:
        flags, settings, operands = parse_args(argv)
    except TarUsage as exc:
        await proc.err(str(exc))
        await proc.err_raw("Try 'tar --help' or 'tar --usage' for more information.\n")
        return 2
    modes = flags & {"c", "x", "t", "r", "u"}
    if len(modes) != 1:
        await proc.err("You must specify one of the '-Acdtrux', '--delete' or '--test-label' "
                       "options" if not modes else "You may not specify more than one "
                       "'-Acdtrux', '--delete' or  '--test-label' option")
        await proc.err_raw("Try 'tar --help' or 'tar --usage' for more information.\n")
        return 2
    mode = modes.pop()
    if flags & {"j", "J"}:
        program = "bzip2" if "j" in flags else "xz"
        await proc.err(f"{program}: Cannot exec: No such file or directory")
        await proc.err("Error is not recoverable: exiting now")
        return 2
    if mode in ("r", "u"):
        await proc.err("Cannot update compressed archives" if "z" in flags else
                       "appending to archives is not supported by kubesim's tar")
        return 2
    archive = settings["file"] or proc.env.get("TAPE") or "-"
    session = _Tar(proc, flags, settings)
    if mode == "c":
        return await session.create(archive, operands)
    return await session.extract(archive, operands, listing=mode == "t")


class _Tar:
    def __init__(self, proc: Proc, flags: set[str], settings: dict):
        self.proc = proc
        self.fs = proc.fs
        self.flags = flags
        self.settings = settings
        self.failed = False
        self.names = Names(proc.fs)
        self.warned_absolute = False
        self.archive_node = None

    async def error(self, text: str) -> None:
        await self.proc.err(text)
        self.failed = True

    def excluded(self, name: str) -> bool:
        base = name.rstrip("/").rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name.rstrip("/"), p) or fnmatch.fnmatchcase(base, p)
                   for p in self.settings["exclude"])

    async def finish(self, status: int = 0) -> int:
        if self.failed:
            await self.proc.err("Exiting with failure status due to previous errors")
            return 2
        return status

    # -- create ------------------------------------------------------------------
    async def create(self, archive: str, operands: list[tuple[str, str]]) -> int:
        proc = self.proc
        paths = [v for k, v in operands if k == "path"]
        if self.settings.get("files-from"):
            try:
                text = (await proc.open_input(self.settings["files-from"]).read()).decode()
                operands = operands + [("path", p) for p in text.splitlines() if p]
                paths = paths + [p for p in text.splitlines() if p]
            except FsError as exc:
                await proc.err(f"{self.settings['files-from']}: Cannot open: {exc.strerror}")
                return 2
        if not paths:
            await proc.err("Cowardly refusing to create an empty archive")
            await proc.err_raw("Try 'tar --help' or 'tar --usage' for more information.\n")
            return 2
        try:
            if archive == "-":
                sink = proc.stdout
            else:
                sink = proc.open_output(archive)
                handle = getattr(sink, "handle", None)
                self.archive_node = handle.node if handle is not None else None
        except FsError as exc:
            await proc.err(f"{archive}: Cannot open: {exc.strerror}")
            await proc.err("Error is not recoverable: exiting now")
            return 2
        self.verbose_out = proc.stderr if archive == "-" else proc.stdout
        compressor = GzipWriter(sink) if "z" in self.flags else None
        out = _Counter(compressor or sink)
        base = None
        try:
            for kind, value in operands:
                if kind == "chdir":
                    try:
                        loc = self.fs.walk(value if base is None or value.startswith("/")
                                           else base.rstrip("/") + "/" + value)
                        if not isinstance(loc.node, Dir):
                            raise FsError(errno.ENOTDIR, value)
                        base = loc.path
                    except FsError as exc:
                        await proc.err(f"{value}: Cannot open: {exc.strerror}")
                        await proc.err("Error is not recoverable: exiting now")
                        return 2
                    continue
                await self.add_path(out, value, base)
            await out.write(bytes(2 * BLOCK))
            await out.write(bytes((-out.count) % RECORD))
            if compressor is not None:
                await compressor.finish()
        except FsError as exc:
            if exc.errno == errno.EPIPE:
                raise
            await proc.err(f"{archive}: Cannot write: {exc.strerror}")
            await proc.err("Error is not recoverable: exiting now")
            return 2
        return await self.finish()

    def _member_name(self, path: str) -> str:
        name = path
        if "P" not in self.flags:
            stripped = name.lstrip("/")
            if stripped != name and not self.warned_absolute:
                self.warned_absolute = True
                self._pending_warning = True
            name = stripped
            while name.startswith("../"):
                name = name[3:]
        return name

    async def add_path(self, out: Writer, path: str, base: str | None) -> None:
        fs = self.fs
        full = path if base is None or path.startswith("/") else \
            (base.rstrip("/") + "/" + path if path != "." else base)
        self._pending_warning = False
        name = self._member_name(path) or "."
        if self._pending_warning:
            await self.proc.err("Removing leading `/' from member names")
        try:
            loc = fs.walk(full, follow="h" in self.flags)
        except FsError as exc:
            await self.error(f"{path}: Cannot stat: {exc.strerror}")
            return
        root_mount = loc.mount
        stack = [(loc, name)]
        while stack:
            current, member = stack.pop()
            if self.excluded(member):
                continue
            node = current.node
            if node is self.archive_node and node is not None:
                await self.proc.err(f"{member}: file is the archive; not dumped")
                continue
            if isinstance(node, Symlink) and "h" in self.flags:
                try:
                    current = fs.walk(current.path)
                    node = current.node
                except FsError as exc:
                    await self.error(f"{member}: Cannot stat: {exc.strerror}")
                    continue
            await self.add_member(out, current, member)
            if isinstance(node, Dir) and "--no-recursion" not in self.flags:
                try:
                    names = sorted(fs.list_loc(current, member), reverse=True)
                except FsError as exc:
                    await self.error(f"{member}: Cannot open: {exc.strerror}")
                    continue
                prefix = member if member.endswith("/") else member + "/"
                for child_name in names:
                    try:
                        child = fs.child(current, child_name)
                    except FsError:
                        continue
                    if "one" in self.flags and child.mount is not root_mount:
                        continue
                    stack.append((child, prefix + child_name))

    async def add_member(self, out: Writer, loc: Loc, member: str) -> None:
        node = loc.node
        info = tarfile.TarInfo(member)
        info.mode = node.perm
        info.uid, info.gid = node.uid, node.gid
        if "--numeric-owner" not in self.flags:
            info.uname, info.gname = self.names.users.get(node.uid, ""), \
                self.names.groups.get(node.gid, "")
        info.mtime = int(node.mtime)
        data = None
        if isinstance(node, Dir):
            info.type = tarfile.DIRTYPE
            if not info.name.endswith("/"):
                info.name += "/"
        elif isinstance(node, Symlink):
            info.type = tarfile.SYMTYPE
            info.linkname = node.target
        elif isinstance(node, Device):
            info.type = tarfile.CHRTYPE
            info.devmajor, info.devminor = node.rdev
        elif isinstance(node, File):
            if self.fs.uid != 0 and not self.fs.may(node, 4):
                await self.error(f"{member}: Cannot open: Permission denied")
                return
            info.type = tarfile.REGTYPE
            data = node.data
            info.size = len(data)
        if "v" in self.flags:
            await self.verbose_out.write((info.name + "\n").encode(errors="surrogateescape"))
        try:
            header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        except ValueError as exc:
            await self.error(f"{member}: {exc}")
            return
        await out.write(header)
        if data:
            size = len(data)
            for offset in range(0, size, CHUNK):
                await out.write(bytes(data[offset:offset + CHUNK]))
            pad = (-size) % BLOCK
            if pad:
                await out.write(bytes(pad))

    def verbose_line(self, info: tarfile.TarInfo) -> str:
        kind = {tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l", tarfile.CHRTYPE: "c",
                tarfile.LNKTYPE: "h"}.get(info.type, "-")
        perms = "".join(c if info.mode & (1 << (8 - i)) else "-"
                        for i, c in enumerate("rwxrwxrwx"))
        owner = f"{info.uname or info.uid}/{info.gname or info.gid}"
        size = f"{info.devmajor},{info.devminor}" if info.type == tarfile.CHRTYPE \
            else str(info.size)
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(info.mtime))
        text = f"{kind}{perms} {owner} {size:>{max(1, 19 - len(owner))}} {when} {info.name}"
        if info.type == tarfile.SYMTYPE:
            text += f" -> {info.linkname}"
        elif info.type == tarfile.LNKTYPE:
            text += f" link to {info.linkname}"
        return text

    # -- extract / list ------------------------------------------------------------
    async def extract(self, archive: str, operands: list[tuple[str, str]],
                      listing: bool) -> int:
        proc = self.proc
        fs = self.fs
        try:
            reader: Reader = proc.stdin if archive == "-" else proc.open_input(archive)
        except FsError as exc:
            await proc.err(f"{archive}: Cannot open: {exc.strerror}")
            await proc.err("Error is not recoverable: exiting now")
            return 2
        if "z" in self.flags:
            reader = GzipReader(reader)
        dest = "."
        wanted = [v for k, v in operands if k == "path"]
        for kind, value in operands:
            if kind == "chdir":
                dest = value if value.startswith("/") or dest == "." else \
                    dest.rstrip("/") + "/" + value
        if not listing:
            try:
                loc = fs.walk(dest)
                if not isinstance(loc.node, Dir):
                    raise FsError(errno.ENOTDIR, dest)
                dest = loc.path
            except FsError as exc:
                await proc.err(f"{dest}: Cannot open: {exc.strerror}")
                await proc.err("Error is not recoverable: exiting now")
                return 2
        to_stdout = "O" in self.flags
        root = fs.uid == 0
        same_owner = ("--same-owner" in self.flags or root) and not \
            self.flags & {"--no-same-owner", "o"}
        same_perms = ("p" in self.flags or root) and "--no-same-permissions" not in self.flags
        touch = "m" in self.flags
        pending_dirs: list[tuple[str, tarfile.TarInfo]] = []
        extracted: dict[str, str] = {}
        long_name = long_link = None
        pax: dict = {}
        first = True
        seen_any = False
        while True:
            header = await reader.readexactly(BLOCK)
            if not header:
                if first:
                    await proc.err("This does not look like a tar archive")
                    await proc.err("Exiting with failure status due to previous errors")
                    return 2
                break
            if len(header) < BLOCK:
                if first:
                    await proc.err("This does not look like a tar archive")
                    await proc.err("Exiting with failure status due to previous errors")
                    return 2
                await proc.err("Unexpected EOF in archive")
                await proc.err("Error is not recoverable: exiting now")
                return 2
            if header == bytes(BLOCK):
                break
            try:
                info = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape")
            except tarfile.HeaderError:
                if first:
                    await proc.err("This does not look like a tar archive")
                    await proc.err("Exiting with failure status due to previous errors")
                    return 2
                await self.error("Skipping to next header")
                continue
            first = False
            if info.isdir() and not info.name.endswith("/"):
                info.name += "/"  # tarfile strips it; GNU tar shows it
            size = info.size
            if info.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK,
                             tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE):
                payload = await reader.readexactly(size + ((-size) % BLOCK))
                payload = payload[:size]
                if info.type == tarfile.GNUTYPE_LONGNAME:
                    long_name = payload.rstrip(b"\0").decode("utf-8", "surrogateescape")
                elif info.type == tarfile.GNUTYPE_LONGLINK:
                    long_link = payload.rstrip(b"\0").decode("utf-8", "surrogateescape")
                else:
                    pax.update(_pax(payload))
                continue
            if long_name is not None:
                info.name = long_name
            if long_link is not None:
                info.linkname = long_link
            if "path" in pax:
                info.name = pax["path"]
            if "linkpath" in pax:
                info.linkname = pax["linkpath"]
            if "size" in pax:
                size = info.size = int(pax["size"])
            if "mtime" in pax:
                info.mtime = float(pax["mtime"])
            for key in ("uid", "gid"):
                if key in pax:
                    setattr(info, key, int(pax[key]))
            for key in ("uname", "gname"):
                if key in pax:
                    setattr(info, key, pax[key])
            long_name = long_link = None
            pax = {}
            seen_any = True
            data_len = size if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE,
                                             tarfile.CONTTYPE, tarfile.GNUTYPE_SPARSE) else 0
            name = info.name
            if not self.selected(name, wanted):
                await self.skip(reader, data_len)
                continue
            if listing:
                if "v" in self.flags:
                    line = self.verbose_line(info)
                else:
                    line = name
                await proc.out(line + "\n")
                await self.skip(reader, data_len)
                continue
            target_name = await self.clean_name(name)
            if target_name is None:
                await self.skip(reader, data_len)
                continue
            if "v" in self.flags:
                await proc.out(name + "\n")
            if to_stdout:
                if data_len:
                    await self.copy_data(reader, data_len, proc.stdout, name)
                continue
            path = dest.rstrip("/") + "/" + target_name if target_name != "." else dest
            try:
                await self.extract_member(reader, info, path, target_name, data_len, dest,
                                          same_owner, same_perms, touch, pending_dirs,
                                          extracted)
            except FsError as exc:
                if exc.errno == errno.EPIPE:
                    raise
                await self.error(f"{target_name}: Cannot open: {exc.strerror}")
        if not listing:
            for path, info in reversed(pending_dirs):
                try:
                    node = fs.walk(path).node
                    if same_perms:
                        node.mode = (node.mode & ~0o7777) | (info.mode & 0o7777)
                    if not touch:
                        node.mtime = float(info.mtime)
                except FsError:
                    pass
        while await reader.read(CHUNK):
            pass  # GNU tar reads the archive to its end
        if wanted and not seen_any:
            for w in wanted:
                await self.error(f"{w}: Not found in archive")
        return await self.finish()

    def selected(self, name: str, wanted: list[str]) -> bool:
        if self.excluded(name):
            return False
        if not wanted:
            return True
        clean = name.rstrip("/")
        return any(clean == w.rstrip("/") or clean.startswith(w.rstrip("/") + "/")
                   or fnmatch.fnmatchcase(clean, w) for w in wanted)

    async def clean_name(self, name: str) -> str | None:
        parts = [p for p in name.split("/") if p and p != "."]
        if name.startswith("/") and "P" not in self.flags and not self.warned_absolute:
            self.warned_absolute = True
            await self.proc.err("Removing leading `/' from member names")
        if ".." in parts and "P" not in self.flags:
            await self.error(f"{name}: Member name contains '..'")
            return None
        strip = self.settings["strip"]
        if strip:
            if len(parts) <= strip:
                return None
            parts = parts[strip:]
        return "/".join(parts) or "."

    async def skip(self, reader: Reader, size: int) -> None:
        remaining = size + ((-size) % BLOCK)
        while remaining:
            chunk = await reader.read(min(remaining, CHUNK))
            if not chunk:
                break
            remaining -= len(chunk)

    async def copy_data(self, reader: Reader, size: int, sink, name: str) -> bool:
        """Stream a member's data into ``sink`` (a Writer or a WriteHandle)."""
        remaining = size
        ok = True
        while remaining:
            chunk = await reader.read(min(remaining, CHUNK))
            if not chunk:
                await self.proc.err("Unexpected EOF in archive")
                raise FsError(errno.EIO)
            remaining -= len(chunk)
            if not ok:
                continue
            try:
                if isinstance(sink, Writer):
                    await sink.write(chunk)
                else:
                    sink.write(chunk)
            except FsError as exc:
                if exc.errno == errno.EPIPE:
                    raise
                await self.error(f"{name}: Cannot write: {exc.strerror}")
                ok = False
        pad = (-size) % BLOCK
        if pad:
            await reader.readexactly(pad)
        return ok

    async def extract_member(self, reader: Reader, info: tarfile.TarInfo, path: str,
                             name: str, data_len: int, dest: str, same_owner: bool,
                             same_perms: bool, touch: bool, pending_dirs: list,
                             extracted: dict) -> None:
        fs = self.fs
        if "/" in name:
            parent = path.rsplit("/", 1)[0] or "/"
            if not fs.exists(parent):
                try:
                    fs.mkdir(parent, 0o777, parents=True)
                except FsError as exc:
                    await self.error(f"{name.rsplit('/', 1)[0]}: Cannot mkdir: {exc.strerror}")
                    await self.skip(reader, data_len)
                    return
        uid, gid = self.owner(info) if same_owner else (fs.uid, fs.gid)
        mode = info.mode & 0o7777
        if not same_perms:
            mode &= ~fs.umask
        mtime = fs.now() if touch else float(info.mtime)
        try:
            existing = fs.walk(path, follow=False).node
        except FsError:
            existing = None
        if info.type == tarfile.DIRTYPE:
            if existing is not None and not isinstance(existing, Dir):
                fs.unlink(path)
                existing = None
            if existing is None:
                fs.mkdir(path, 0o700 | mode)
            node = fs.walk(path).node
            if same_owner and fs.uid == 0:
                node.uid, node.gid = uid, gid
            pending_dirs.append((path, info))
            return
        if existing is not None:
            if isinstance(existing, Dir):
                await self.error(f"{name}: Cannot open: Is a directory")
                await self.skip(reader, data_len)
                return
            if "k" in self.flags:
                await self.error(f"{name}: Cannot open: File exists")
                await self.skip(reader, data_len)
                return
            fs.unlink(path)
        if info.type == tarfile.SYMTYPE:
            fs.symlink(info.linkname, path)
            node = fs.walk(path, follow=False).node
        elif info.type == tarfile.LNKTYPE:
            source = extracted.get(info.linkname) or \
                dest.rstrip("/") + "/" + info.linkname.lstrip("/")
            try:
                src = fs.walk(source)
                fs.place(path, File(src.node.shared(), src.node.perm, src.node.uid,
                                    src.node.gid, src.node.mtime))
            except FsError as exc:
                await self.error(f"{name}: Cannot hard link to {quotef(info.linkname)}: "
                                 f"{exc.strerror}")
                return
            node = fs.walk(path).node
        elif info.type in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
            return
        else:
            handle = fs.open_write(path, mode=0o600)
            node = handle.node
            await self.copy_data(reader, data_len, handle, name)
            extracted[info.name] = path
        if isinstance(node, Symlink):
            if fs.uid == 0 and same_owner:
                node.uid, node.gid = uid, gid
            node.mtime = mtime
            return
        node.mode = (node.mode & ~0o7777) | mode
        if fs.uid == 0:
            node.uid, node.gid = uid, gid
        node.mtime = mtime

    def owner(self, info: tarfile.TarInfo) -> tuple[int, int]:
        uid, gid = info.uid, info.gid
        if "--numeric-owner" not in self.flags:
            if info.uname:
                found = self.names.uid_of(info.uname)
                uid = found if found is not None else uid
            if info.gname:
                found = self.names.gid_of(info.gname)
                gid = found if found is not None else gid
        return uid, gid


def _pax(payload: bytes) -> dict:
    out, i = {}, 0
    while i < len(payload):
        space = payload.find(b" ", i)
        if space < 0:
            break
        try:
            length = int(payload[i:space])
        except ValueError:
            break
        record = payload[space + 1:i + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode()] = value.decode("utf-8", "surrogateescape")
        i += length
    return out


async def gzip(proc: Proc, argv: list[str]) -> int:
    decompress = proc.name in ("gunzip", "zcat") or any(a in ("-d", "--decompress")
                                                         for a in argv)
    to_stdout = proc.name == "zcat" or any(a in ("-c", "--stdout") for a in argv)
    keep = any(a in ("-k", "--keep") for a in argv)
    files = [a for a in argv if not a.startswith("-")] or ["-"]
    status = 0
    for path in files:
        try:
            reader = proc.open_input(path)
            if path == "-" or to_stdout:
                out = proc.stdout
            else:
                target = path[:-3] if decompress and path.endswith(".gz") else path + ".gz"
                if decompress and not path.endswith(".gz"):
                    await proc.err(f"{path}: unknown suffix -- ignored")
                    status = 1
                    continue
                out = proc.open_output(target)
        except FsError as exc:
            await proc.err(f"{path}: {exc.strerror}")
            status = 1
            continue
        if decompress:
            source = GzipReader(reader)
            while True:
                try:
                    chunk = await source.read(CHUNK)
                except zlib.error:
                    await proc.err(f"{path}: not in gzip format")
                    status = 1
                    break
                if not chunk:
                    break
                await out.write(chunk)
        else:
            sink = GzipWriter(out)
            while True:
                chunk = await reader.read(CHUNK)
                if not chunk:
                    break
                await sink.write(chunk)
            await sink.finish()
        if path != "-" and not to_stdout and not keep:
            proc.fs.unlink(path)
    return status


COMMANDS = {"tar": tar, "gzip": gzip, "gunzip": gzip, "zcat": gzip}
