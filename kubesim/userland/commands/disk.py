"""stat, du, df and find, with GNU output formats."""

from __future__ import annotations

import errno
import fnmatch
import math
import re
import time

from ...fs.errors import FsError
from ...fs.nodes import Device, Dir, File, Symlink
from ...fs.vfs import Loc, Mount
from ..process import Proc, UsageError, parse, quote
from ..runner import run_program
from .basic import unescape
from .common import (Names, blocks_of, file_type, full_time, human, mode_string, nlink,
                     parse_mode, parse_size)


# -- stat ------------------------------------------------------------------------
def _stat_field(spec: str, flags: str, width: str, loc: Loc, shown: str, names: Names,
                fs) -> str:
    node = loc.node
    dev = loc.mount.volume.dev
    values = {
        "a": lambda: f"{node.perm:o}", "A": lambda: mode_string(node),
        "b": lambda: str(blocks_of(node)), "B": lambda: "512",
        "d": lambda: str((dev[0] << 8) | dev[1]), "D": lambda: f"{(dev[0] << 8) | dev[1]:x}",
        "f": lambda: f"{node.mode:x}", "F": lambda: file_type(node),
        "g": lambda: str(node.gid), "G": lambda: names.group(node.gid),
        "h": lambda: str(nlink(node)), "i": lambda: str(node.ino),
        "m": lambda: fs.ns.mount_of(loc.path).path, "n": lambda: shown,
        "N": lambda: quote(shown) + (f" -> {quote(node.target)}"
                                     if isinstance(node, Symlink) else ""),
        "o": lambda: "4096", "s": lambda: str(node.size()),
        "t": lambda: f"{node.rdev[0]:x}" if isinstance(node, Device) else "0",
        "T": lambda: f"{node.rdev[1]:x}" if isinstance(node, Device) else "0",
        "u": lambda: str(node.uid), "U": lambda: names.user(node.uid),
        "w": lambda: full_time(node.ctime), "W": lambda: str(int(node.ctime)),
        "x": lambda: full_time(node.mtime), "X": lambda: str(int(node.mtime)),
        "y": lambda: full_time(node.mtime), "Y": lambda: str(int(node.mtime)),
        "z": lambda: full_time(node.ctime), "Z": lambda: str(int(node.ctime)),
        "Hd": lambda: str(dev[0]), "Ld": lambda: str(dev[1]),
    }
    if spec not in values:
        return "?"
    return _pad(values[spec](), flags, width)


def _pad(text: str, flags: str, width: str) -> str:
    if not width:
        return text
    if "-" in flags:
        return text.ljust(int(width))
    if "0" in flags and text.lstrip("-").isdigit():
        return text.zfill(int(width))
    return text.rjust(int(width))


def _statfs_field(spec: str, flags: str, width: str, mount: Mount, shown: str) -> str:
    volume = mount.volume
    total = volume.total() // 4096
    free = volume.available() // 4096
    values = {"b": str(total), "f": str(free), "a": str(free), "s": "4096", "S": "4096",
              "n": shown, "T": _fs_name(volume.fstype), "t": "ef53", "c": "1048576",
              "d": "1048000", "i": "0", "l": "255"}
    return _pad(values.get(spec, "?"), flags, width)


def _fs_name(fstype: str) -> str:
    return {"ext4": "ext2/ext3", "overlay": "overlayfs", "tmpfs": "tmpfs",
            "nfs4": "nfs"}.get(fstype, fstype)


_FORMAT = re.compile(r"%([-#+ 0]*)(\d*)(?:\.\d+)?(Hd|Ld|[a-zA-Z%])")


def render_format(fmt: str, field) -> str:
    """Expand ``%x`` directives of a stat/find format through ``field(spec, flags, width)``."""
    out, pos = [], 0
    for m in _FORMAT.finditer(fmt):
        out.append(fmt[pos:m.start()])
        flags, width, spec = m.groups()
        out.append("%" if spec == "%" else field(spec, flags, width))
        pos = m.end()
    out.append(fmt[pos:])
    return "".join(out)


DEFAULT_STAT = ("  File: %N\n  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\n"
                "Device: %Hd,%Ld\tInode: %-11i Links: %h{devtype}\n"
                "Access: (%04a/%10.10A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\n"
                "Access: %x\nModify: %y\nChange: %z\n Birth: -\n")
DEFAULT_STATFS = ("  File: \"%n\"\n    ID: %-8i Namelen: %-7l Type: %T\n"
                  "Block size: %-10s Fundamental block size: %S\n"
                  "Blocks: Total: %-10b Free: %-10f Available: %a\n"
                  "Inodes: Total: %-10c Free: %d\n")


async def stat(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "c:Lft", ["format=", "printf=", "dereference",
                                             "file-system", "terse"])
    fmt = None
    newline = True
    for o, v in opts:
        if o in ("-c", "--format"):
            fmt = v
        elif o == "--printf":
            fmt, newline = unescape(v)[0], False
    follow = any(o in ("-L", "--dereference") for o, _ in opts)
    filesystem = any(o in ("-f", "--file-system") for o, _ in opts)
    if not args:
        raise UsageError("missing operand")
    names = Names(proc.fs)
    status = 0
    for path in args:
        try:
            loc = proc.fs.walk(path, follow=follow)
        except FsError as exc:
            await proc.err(f"cannot statx {quote(path)}: {exc.strerror}")
            status = 1
            continue
        if filesystem:
            text = render_format(fmt or DEFAULT_STATFS,
                                 lambda s, f, w: _statfs_field(s, f, w, loc.mount, path))
        else:
            template = fmt or DEFAULT_STAT.replace(
                "{devtype}", " Device type: %t,%T" if isinstance(loc.node, Device) else "")
            text = render_format(template, lambda s, f, w: _stat_field(
                s, f, w, loc, path, names, proc.fs))
        if fmt is not None and newline:
            text += "\n"
        await proc.out(text)
    return status


# -- du --------------------------------------------------------------------------
async def du(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "sabchkmd:xLB:0", ["summarize", "all", "bytes", "total",
                                                      "human-readable", "max-depth=",
                                                      "one-file-system", "dereference",
                                                      "apparent-size", "block-size=",
                                                      "null", "si"])
    flags = {o for o, _ in opts}
    apparent = bool(flags & {"-b", "--apparent-size"})
    unit = 1 if "-b" in flags else 1024
    for o, v in opts:
        if o in ("-k",):
            unit = 1024
        elif o == "-m":
            unit = 1024 ** 2
        elif o in ("-B", "--block-size"):
            try:
                unit = parse_size(v if v[:1].isdigit() else "1" + v)
            except ValueError:
                raise UsageError(f"invalid -B argument {quote(v)}", hint=False) from None
    human_readable = bool(flags & {"-h", "--human-readable", "--si"})
    summarize = bool(flags & {"-s", "--summarize"})
    every = bool(flags & {"-a", "--all"})
    one_fs = bool(flags & {"-x", "--one-file-system"})
    max_depth = next((int(v) for o, v in opts if o in ("-d", "--max-depth")), None)
    if summarize:
        max_depth = 0
    end = "\0" if flags & {"-0", "--null"} else "\n"
    fs = proc.fs
    status = 0
    grand = 0

    def size_of(node) -> int:
        if apparent:
            return node.size() if not isinstance(node, Device) else 0
        return blocks_of(node) * 512

    def show(n: int) -> str:
        if human_readable:
            return human(n, si="--si" in flags)
        return str(math.ceil(n / unit))

    async def visit(path: str, loc: Loc, depth: int, root_mount) -> int:
        nonlocal status
        node = loc.node
        total = size_of(node)
        if isinstance(node, Dir):
            try:
                names = sorted(fs.list_loc(loc, path))
            except FsError as exc:
                await proc.err(f"cannot read directory {quote(path)}: {exc.strerror}")
                status = 1
                names = []
            for name in names:
                try:
                    child = fs.child(loc, name)
                except FsError:
                    continue
                if one_fs and child.mount is not root_mount:
                    continue
                total += await visit(path.rstrip("/") + "/" + name if path != "/" else
                                     "/" + name, child, depth + 1, root_mount)
            if max_depth is None or depth <= max_depth:
                await proc.out(f"{show(total)}\t{path}{end}")
        elif (every and (max_depth is None or depth <= max_depth)) or depth == 0:
            await proc.out(f"{show(total)}\t{path}{end}")
        return total

    for path in args or ["."]:
        try:
            loc = fs.walk(path, follow="-L" in flags or path.endswith("/"))
        except FsError as exc:
            await proc.err(f"cannot access {quote(path)}: {exc.strerror}")
            status = 1
            continue
        grand += await visit(path, loc, 0, loc.mount)
    if flags & {"-c", "--total"}:
        await proc.out(f"{show(grand)}\ttotal{end}")
    return status


# -- df --------------------------------------------------------------------------
async def df(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "hHkTPaB:lix", ["human-readable", "si", "print-type",
                                                   "portability", "all", "block-size=",
                                                   "local", "inodes", "output=",
                                                   "exclude-type="])
    flags = {o for o, _ in opts}
    human_readable = bool(flags & {"-h", "--human-readable", "-H", "--si"})
    si = bool(flags & {"-H", "--si"})
    show_type = bool(flags & {"-T", "--print-type"})
    unit = 1024
    for o, v in opts:
        if o in ("-B", "--block-size"):
            try:
                unit = parse_size(v if v[:1].isdigit() else "1" + v)
            except ValueError:
                raise UsageError(f"invalid -B argument {quote(v)}", hint=False) from None
    fs = proc.fs
    status = 0
    if args:
        mounts = []
        for path in args:
            try:
                loc = fs.walk(path)
            except FsError as exc:
                await proc.err(f"{path}: {exc.strerror}")
                status = 1
                continue
            mount = fs.ns.mount_of(loc.path)
            if mount not in mounts:
                mounts.append(mount)
    else:
        mounts = fs.ns.mount_list()
    size_header = "Size" if human_readable else ("1K-blocks" if unit == 1024 else
                                                 f"{unit // 1024}K-blocks" if unit % 1024 == 0
                                                 else f"{unit}B-blocks")
    rows = [["Filesystem"] + (["Type"] if show_type else [])
            + [size_header, "Used", "Avail" if human_readable else "Available", "Use%",
               "Mounted on"]]
    for mount in mounts:
        volume = mount.volume
        total = volume.total()
        used = volume.used
        avail = min(volume.available(), max(0, total - used))
        if volume.destroyed:
            continue
        pct = "-" if total == 0 else f"{math.ceil(used * 100 / (used + avail)) if used else 0}%"

        def fmt(n: int) -> str:
            return human(n, si) if human_readable else str(math.ceil(n / unit))

        rows.append([mount.source] + ([volume.fstype] if show_type else [])
                    + [fmt(total), fmt(used), fmt(avail), pct, mount.path])
    # GNU df's minimum column widths (source 14, type 4, sizes 5, Use% 4).
    minimum = [14] + ([4] if show_type else []) + [5, 5, 5, 4, 0]
    widths = [max([len(r[i]) for r in rows] + [minimum[i]]) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = []
        for i, cell in enumerate(r):
            if i == len(r) - 1:
                cells.append(cell)
            elif i == 0 or (show_type and i == 1):
                cells.append(cell.ljust(widths[i]))
            else:
                cells.append(cell.rjust(widths[i]))
        lines.append(" ".join(cells))
    await proc.out("\n".join(lines) + "\n")
    return status


# -- find ------------------------------------------------------------------------
class _FindError(Exception):
    pass


def _type_letter(node) -> str:
    if isinstance(node, Dir):
        return "d"
    if isinstance(node, Symlink):
        return "l"
    if isinstance(node, Device):
        return "c"
    return "f"


def _numeric(text: str, name: str) -> tuple[str, float]:
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)", text)
    if not m:
        raise _FindError(f"invalid argument `{text}' to `{name}'")
    return m.group(1), float(m.group(2))


def _compare(sign: str, value: float, target: float) -> bool:
    if sign == "+":
        return value > target
    if sign == "-":
        return value < target
    return value == target


class _Find:
    """Parses a find expression into a predicate tree and evaluates it."""

    def __init__(self, proc: Proc, tokens: list[str]):
        self.proc = proc
        self.tokens = tokens
        self.i = 0
        self.maxdepth: int | None = None
        self.mindepth = 0
        self.depth_first = False
        self.xdev = False
        self.has_action = False
        self.names = Names(proc.fs)
        self.quit = False
        self.batches: dict[int, list[str]] = {}
        self.status = 0
        self.tree = self._or() if tokens else ("true",)
        if self.i < len(tokens):
            raise _FindError(f"paths must precede expression: `{tokens[self.i]}'"
                             if tokens[self.i] != ")" else "invalid expression; you have "
                             "too many ')'")

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self, name: str) -> str:
        if self.i >= len(self.tokens):
            raise _FindError(f"missing argument to `{name}'")
        value = self.tokens[self.i]
        self.i += 1
        return value

    def _or(self):
        left = self._and()
        while self._peek() in ("-o", "-or"):
            self.i += 1
            left = ("or", left, self._and())
        return left

    def _and(self):
        left = self._not()
        while True:
            tok = self._peek()
            if tok in ("-a", "-and"):
                self.i += 1
            elif tok is None or tok in ("-o", "-or", ")"):
                return left
            left = ("and", left, self._not())

    def _not(self):
        if self._peek() in ("!", "-not"):
            self.i += 1
            return ("not", self._not())
        return self._primary()

    def _primary(self):
        tok = self._take("expression")
        if tok == "(":
            inner = self._or()
            if self._peek() != ")":
                raise _FindError("invalid expression; I was expecting to find a ')' "
                                 "somewhere but did not see one.")
            self.i += 1
            return inner
        if tok in ("-maxdepth", "-mindepth"):
            value = self._take(tok)
            if not value.isdigit():
                raise _FindError(f"Expected a positive decimal integer argument to {tok}, "
                                 f"but got `{value}'")
            setattr(self, tok[1:], int(value))
            return ("true",)
        if tok in ("-depth", "-d"):
            self.depth_first = True
            return ("true",)
        if tok in ("-xdev", "-mount"):
            self.xdev = True
            return ("true",)
        if tok in ("-follow", "-noleaf", "-ignore_readdir_race"):
            return ("true",)
        if tok in ("-true", "-false", "-empty", "-readable", "-writable", "-executable",
                   "-prune", "-quit"):
            if tok == "-quit":
                self.has_action = True
            return (tok[1:],)
        if tok in ("-print", "-print0", "-ls", "-delete"):
            self.has_action = True
            if tok == "-delete":
                self.depth_first = True
            return (tok[1:],)
        if tok in ("-printf", "-fprintf"):
            self.has_action = True
            return ("printf", self._take(tok))
        if tok in ("-exec", "-execdir", "-ok"):
            self.has_action = True
            command = []
            while True:
                arg = self._take(tok)
                if arg == ";":
                    return ("exec", command, False)
                if arg == "+" and command and command[-1] == "{}":
                    key = id(command)
                    self.batches[key] = []
                    return ("exec", command, True)
                command.append(arg)
        if tok in ("-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename",
                   "-lname", "-regex", "-iregex"):
            return (tok[1:], self._take(tok))
        if tok in ("-type", "-xtype"):
            value = self._take(tok)
            for letter in value.split(","):
                if letter not in "fdlcbpsD":
                    raise _FindError(f"Unknown argument to {tok}: {letter}")
            return ("type", value.split(","), tok == "-xtype")
        if tok == "-size":
            value = self._take(tok)
            m = re.fullmatch(r"([+-]?)(\d+)([bcwkMG]?)", value)
            if not m:
                raise _FindError(f"invalid -size type `{value[-1:]}'")
            return ("size", m.group(1), int(m.group(2)), m.group(3) or "b")
        if tok in ("-mtime", "-mmin", "-ctime", "-cmin", "-atime", "-amin", "-links",
                   "-inum", "-uid", "-gid"):
            sign, value = _numeric(self._take(tok), tok)
            return (tok[1:], sign, value)
        if tok in ("-newer", "-anewer", "-cnewer"):
            ref = self._take(tok)
            try:
                when = self.proc.fs.walk(ref).node.mtime
            except FsError as exc:
                raise _FindError(f"{quote(ref)}: {exc.strerror}") from None
            return ("newer", when)
        if tok in ("-user", "-group"):
            value = self._take(tok)
            ident = (self.names.uid_of if tok == "-user" else self.names.gid_of)(value)
            if ident is None:
                raise _FindError(f"{tok[1:]} `{value}' is not the name of a known "
                                 f"{tok[1:]}")
            return (tok[1:], ident)
        if tok == "-perm":
            value = self._take(tok)
            kind = value[0] if value[:1] in "-/" else "="
            spec = value[1:] if kind != "=" else value
            try:
                mode = parse_mode(spec, 0, False, 0)
            except ValueError:
                raise _FindError(f"invalid mode `{value}'") from None
            return ("perm", kind, mode)
        if tok.startswith("-"):
            raise _FindError(f"unknown predicate `{tok}'")
        raise _FindError(f"paths must precede expression: `{tok}'")

    # -- evaluation ------------------------------------------------------------
    async def evaluate(self, node, loc: Loc, shown: str, root: str, depth: int) -> bool:
        kind = node[0]
        fs = self.proc.fs
        item = loc.node
        if kind == "and":
            return await self.evaluate(node[1], loc, shown, root, depth) and \
                await self.evaluate(node[2], loc, shown, root, depth)
        if kind == "or":
            return await self.evaluate(node[1], loc, shown, root, depth) or \
                await self.evaluate(node[2], loc, shown, root, depth)
        if kind == "not":
            return not await self.evaluate(node[1], loc, shown, root, depth)
        if kind == "true":
            return True
        if kind == "false":
            return False
        if kind in ("name", "iname"):
            base = shown.rstrip("/").rsplit("/", 1)[-1] or "/"
            if kind == "iname":
                return fnmatch.fnmatchcase(base.lower(), node[1].lower())
            return fnmatch.fnmatchcase(base, node[1])
        if kind in ("path", "wholename", "ipath", "iwholename"):
            if kind.startswith("i"):
                return fnmatch.fnmatchcase(shown.lower(), node[1].lower())
            return fnmatch.fnmatchcase(shown, node[1])
        if kind in ("regex", "iregex"):
            return re.fullmatch(node[1], shown, re.I if kind == "iregex" else 0) is not None
        if kind == "lname":
            return isinstance(item, Symlink) and fnmatch.fnmatchcase(item.target, node[1])
        if kind == "type":
            target = item
            if node[2] and isinstance(item, Symlink):
                try:
                    target = fs.walk(loc.path).node
                except FsError:
                    target = item
            return _type_letter(target) in node[1]
        if kind == "size":
            _, sign, value, unit = node
            size = item.size()
            scale = {"b": 512, "c": 1, "w": 2, "k": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[unit]
            return _compare(sign, math.ceil(size / scale) if scale > 1 else size, value)
        if kind in ("mtime", "ctime", "atime"):
            age = (self.proc.ctx.now() - (item.ctime if kind == "ctime" else item.mtime)) / 86400
            return _compare(node[1], math.floor(age), node[2])
        if kind in ("mmin", "cmin", "amin"):
            age = (self.proc.ctx.now() - (item.ctime if kind == "cmin" else item.mtime)) / 60
            return _compare(node[1], math.ceil(age), node[2])
        if kind == "newer":
            return item.mtime > node[1]
        if kind == "links":
            return _compare(node[1], nlink(item), node[2])
        if kind == "inum":
            return _compare(node[1], item.ino, node[2])
        if kind in ("uid", "gid"):
            return _compare(node[1], item.uid if kind == "uid" else item.gid, node[2])
        if kind == "user":
            return item.uid == node[1]
        if kind == "group":
            return item.gid == node[1]
        if kind == "perm":
            _, how, mode = node
            perm = item.perm
            if how == "=":
                return perm == mode
            if how == "-":
                return perm & mode == mode
            return bool(perm & mode) or mode == 0
        if kind == "empty":
            if isinstance(item, Dir):
                try:
                    return not fs.list_loc(loc)
                except FsError:
                    return False
            return isinstance(item, File) and item.size() == 0
        if kind == "readable":
            return fs.may(item, 4)
        if kind == "writable":
            return fs.may(item, 2)
        if kind == "executable":
            return fs.may(item, 1)
        if kind == "prune":
            self.pruned = True
            return True
        if kind == "quit":
            self.quit = True
            return True
        if kind == "print":
            await self.proc.out(shown + "\n")
            return True
        if kind == "print0":
            await self.proc.out(shown + "\0")
            return True
        if kind == "ls":
            names = self.names
            await self.proc.out(
                f"{item.ino:>9} {blocks_of(item) // 2:>6} {mode_string(item)} {nlink(item):>3} "
                f"{names.user(item.uid):<8} {names.group(item.gid):<8} {item.size():>8} "
                f"{time.strftime('%b %e %H:%M', time.gmtime(item.mtime))} {shown}"
                + (f" -> {item.target}" if isinstance(item, Symlink) else "") + "\n")
            return True
        if kind == "printf":
            await self.proc.out(self.printf(node[1], loc, shown, root, depth))
            return True
        if kind == "delete":
            try:
                if isinstance(item, Dir):
                    fs.rmdir(loc.path)
                else:
                    fs.unlink(loc.path)
            except FsError as exc:
                await self.proc.err(f"cannot delete {quote(shown)}: {exc.strerror}")
                self.status = 1
                return False
            return True
        if kind == "exec":
            _, command, batch = node
            if batch:
                self.batches[id(command)].append(shown)
                return True
            argv = [a.replace("{}", shown) for a in command]
            return await self.run(argv) == 0
        raise _FindError(f"unknown predicate `{kind}'")

    async def run(self, argv: list[str]) -> int:
        result = await run_program(self.proc, argv)
        if isinstance(result, tuple):
            await self.proc.err(f"{quote(argv[0])}: {result[1]}")
            self.status = 1
            return 1
        return result

    async def flush_batches(self, node=None) -> None:
        node = self.tree if node is None else node
        if node[0] == "exec" and node[2]:
            items = self.batches.get(id(node[1])) or []
            if items:
                argv = node[1][:-1] + items
                if await self.run(argv):
                    self.status = 1
                self.batches[id(node[1])] = []
            return
        for child in node[1:]:
            if isinstance(child, tuple):
                await self.flush_batches(child)

    def printf(self, fmt: str, loc: Loc, shown: str, root: str, depth: int) -> str:
        item = loc.node
        names = self.names
        text = unescape(fmt)[0]
        out, i = [], 0
        while i < len(text):
            ch = text[i]
            if ch != "%" or i + 1 >= len(text):
                out.append(ch)
                i += 1
                continue
            m = re.match(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([A-Za-z%@])", text[i:])
            if not m:
                out.append(ch)
                i += 1
                continue
            flags, width, precision, spec = m.groups()
            i += m.end()
            if spec in "ACT":
                if i >= len(text):
                    break
                sub = text[i]
                i += 1
                ts = item.ctime if spec == "C" else item.mtime
                value = _time_directive(sub, ts)
            else:
                value = self._directive(spec, item, loc, shown, root, depth, names)
            if precision is not None and spec not in "ACT":
                value = value[:int(precision)]
            out.append(_pad(value, flags, width))
        return "".join(out)

    def _directive(self, spec, item, loc, shown, root, depth, names) -> str:
        base = shown.rstrip("/").rsplit("/", 1)[-1] if shown != "/" else "/"
        if spec == "%":
            return "%"
        if spec == "p":
            return shown
        if spec == "P":
            rel = shown[len(root):]
            return rel[1:] if rel.startswith("/") else rel
        if spec == "f":
            return base
        if spec == "h":
            return shown.rsplit("/", 1)[0] if "/" in shown.rstrip("/") else "."
        if spec == "H":
            return root
        if spec == "s":
            return str(item.size())
        if spec == "k":
            return str(blocks_of(item) // 2)
        if spec == "b":
            return str(blocks_of(item))
        if spec == "y":
            return _type_letter(item)
        if spec == "Y":
            if isinstance(item, Symlink):
                try:
                    return _type_letter(self.proc.fs.walk(loc.path).node)
                except FsError as exc:
                    return "L" if exc.errno == errno.ELOOP else "N"
            return _type_letter(item)
        if spec == "m":
            return f"{item.perm:o}"
        if spec == "M":
            return mode_string(item)
        if spec == "u":
            return names.user(item.uid)
        if spec == "g":
            return names.group(item.gid)
        if spec == "U":
            return str(item.uid)
        if spec == "G":
            return str(item.gid)
        if spec == "i":
            return str(item.ino)
        if spec == "n":
            return str(nlink(item))
        if spec == "l":
            return item.target if isinstance(item, Symlink) else ""
        if spec == "d":
            return str(depth)
        if spec == "D":
            return str((loc.mount.volume.dev[0] << 8) | loc.mount.volume.dev[1])
        if spec in "tca":
            return _ctime(item.ctime if spec == "c" else item.mtime)
        if spec == "F":
            return loc.mount.volume.fstype
        return ""


def _ctime(ts: float) -> str:
    frac = f"{ts - int(ts):.10f}"[1:]
    t = time.gmtime(int(ts))
    return time.strftime("%a %b %e %H:%M:%S", t) + frac + time.strftime(" %Y", t)


def _time_directive(sub: str, ts: float) -> str:
    t = time.gmtime(int(ts))
    if sub == "@":
        return f"{ts:.10f}"
    if sub == "+":
        return time.strftime("%Y-%m-%d+%H:%M:%S", t) + f"{ts - int(ts):.10f}"[1:]
    if sub == "T":
        return time.strftime("%H:%M:%S", t) + f"{ts - int(ts):.10f}"[1:]
    if sub == "S":
        return time.strftime("%S", t) + f"{ts - int(ts):.10f}"[1:]
    if sub == "k":
        return f"{t.tm_hour:2d}"
    if sub == "l":
        return f"{(t.tm_hour % 12) or 12:2d}"
    if sub == "Z":
        return "UTC"
    if sub == "z":
        return "+0000"
    try:
        return time.strftime("%" + sub, t)
    except ValueError:
        return ""


async def find(proc: Proc, argv: list[str]) -> int:
    args = list(argv)
    follow = False
    while args and args[0] in ("-L", "-H", "-P"):
        follow = args.pop(0) == "-L"
    paths = []
    while args and not (args[0].startswith("-") and len(args[0]) > 1) and args[0] not in \
            ("(", "!", ")"):
        paths.append(args.pop(0))
    try:
        expr = _Find(proc, args)
    except _FindError as exc:
        await proc.err(str(exc))
        return 1
    if not expr.has_action:
        expr.tree = ("and", expr.tree, ("print",))
    fs = proc.fs
    status = 0
    for root in paths or ["."]:
        try:
            loc = fs.walk(root, follow=follow or root.endswith("/"))
            if isinstance(loc.node, Symlink) and (root.endswith("/") or follow):
                loc = fs.walk(root)
        except FsError as exc:
            await proc.err(f"{quote(root)}: {exc.strerror}")
            status = 1
            continue
        root_mount = loc.mount

        async def visit(current: Loc, shown: str, depth: int) -> None:
            nonlocal status
            if expr.quit:
                return
            expr.pruned = False
            is_dir = isinstance(current.node, Dir)
            matches = expr.maxdepth is None or depth <= expr.maxdepth
            if not expr.depth_first and depth >= expr.mindepth and matches:
                await expr.evaluate(expr.tree, current, shown, root, depth)
            pruned = expr.pruned and not expr.depth_first
            if is_dir and not pruned and (expr.maxdepth is None or depth < expr.maxdepth):
                try:
                    names = sorted(fs.list_loc(current, shown))
                except FsError as exc:
                    await proc.err(f"{quote(shown)}: {exc.strerror}")
                    status = 1
                    names = []
                for name in names:
                    if expr.quit:
                        return
                    try:
                        child = fs.child(current, name)
                    except FsError:
                        continue
                    if expr.xdev and child.mount is not root_mount:
                        continue
                    if follow and isinstance(child.node, Symlink):
                        try:
                            child = fs.walk(child.path)
                        except FsError:
                            pass
                    sep = "" if shown.endswith("/") else "/"
                    await visit(child, shown + sep + name, depth + 1)
            if expr.depth_first and depth >= expr.mindepth and matches:
                await expr.evaluate(expr.tree, current, shown, root, depth)

        await visit(loc, root, 0)
        if expr.quit:
            break
    await expr.flush_batches()
    return max(status, expr.status)


COMMANDS = {"stat": stat, "du": du, "df": df, "find": find}
