"""File commands with GNU coreutils behaviour: ls, cat, mkdir, rmdir, rm, cp, mv, touch,
ln, chmod, chown, chgrp, readlink, realpath, truncate, mktemp."""

from __future__ import annotations

import calendar
import errno
import random
import re
import string
import time

from ...fs.errors import FsError
from ...fs.nodes import Device, Dir, File, Symlink
from ...fs.vfs import Loc, normalize
from ..process import Proc, UsageError, parse, quote, quotef
from ..streams import CHUNK
from .common import (Names, blocks_of, copy_node, full_time, human, ls_time, mode_string,
                     nlink, parse_mode, parse_size)


def _base(path: str) -> str:
    stripped = path.rstrip("/")
    return stripped.rsplit("/", 1)[-1] if stripped else "/"


# -- ls ------------------------------------------------------------------------
async def ls(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "laAdR1hitrSFpnsU",
                       ["all", "almost-all", "directory", "recursive", "human-readable",
                        "inode", "reverse", "color=", "classify", "numeric-uid-gid", "size",
                        "full-time", "time-style="])
    flags = {o.lstrip("-") for o, _ in opts}
    long_ = bool(flags & {"l", "n", "numeric-uid-gid", "full-time"})
    show = "all" if flags & {"a", "all"} else "almost" if flags & {"A", "almost-all"} else ""
    fs = proc.fs
    names = Names(fs) if long_ else None
    now = proc.ctx.now()
    status = 0
    files: list[tuple[str, Loc]] = []
    dirs: list[tuple[str, Loc]] = []
    for arg in args or ["."]:
        try:
            loc = fs.walk(arg, follow=not (long_ or "d" in flags or "directory" in flags)
                          or arg.endswith("/"))
            if isinstance(loc.node, Symlink) and not long_ and "d" not in flags:
                loc = fs.walk(arg)
            if isinstance(loc.node, Symlink) and long_ and "d" not in flags:
                try:
                    target = fs.walk(arg)
                    if isinstance(target.node, Dir):
                        loc = target
                except FsError:
                    pass
        except FsError as exc:
            await proc.err(f"cannot access {quote(arg)}: {exc.strerror}")
            status = 2
            continue
        if isinstance(loc.node, Dir) and not flags & {"d", "directory"}:
            dirs.append((arg, loc))
        else:
            files.append((arg, loc))

    def order(entries: list[tuple[str, Loc]]) -> list[tuple[str, Loc]]:
        if "U" in flags:
            return entries
        if "t" in flags:
            entries = sorted(entries, key=lambda e: (-e[1].node.mtime, e[0]))
        elif "S" in flags:
            entries = sorted(entries, key=lambda e: (-e[1].node.size(), e[0]))
        else:
            entries = sorted(entries, key=lambda e: e[0].encode())
        return entries[::-1] if flags & {"r", "reverse"} else entries

    async def emit(entries: list[tuple[str, Loc]], total: bool) -> None:
        if not long_:
            lines = []
            for name, loc in entries:
                prefix = f"{loc.node.ino} " if flags & {"i", "inode"} else ""
                if flags & {"s", "size"}:
                    prefix += f"{blocks_of(loc.node) // 2} "
                lines.append(prefix + name + _classify(loc.node, flags))
            if lines:
                sep = "  " if proc.ctx.tty and "1" not in flags else "\n"
                await proc.out(sep.join(lines) + "\n")
            return
        rows = []
        for name, loc in entries:
            node = loc.node
            owner = str(node.uid) if flags & {"n", "numeric-uid-gid"} else names.user(node.uid)
            group = str(node.gid) if flags & {"n", "numeric-uid-gid"} else names.group(node.gid)
            if isinstance(node, Device):
                size = f"{node.rdev[0]}, {node.rdev[1]}"
            elif flags & {"h", "human-readable"}:
                size = human(node.size())
            else:
                size = str(node.size())
            shown = name + _classify(node, flags)
            if isinstance(node, Symlink):
                shown += f" -> {node.target}"
            when = ls_time(node.mtime, now)
            if "full-time" in flags:
                when = full_time(node.mtime)
            rows.append([f"{node.ino}" if flags & {"i", "inode"} else None, mode_string(node),
                         str(nlink(node)), owner, group, size, when, shown,
                         blocks_of(node)])
        if total:
            blocks = sum(r[8] for r in rows) // 2
            await proc.out(f"total {human(blocks * 1024) if 'h' in flags else blocks}\n")
        widths = [max((len(r[i]) for r in rows if r[i] is not None), default=0)
                  for i in range(8)]
        out = []
        for r in rows:
            cells = []
            if r[0] is not None:
                cells.append(r[0].rjust(widths[0]))
            cells += [r[1], r[2].rjust(widths[2]), r[3].ljust(widths[3]),
                      r[4].ljust(widths[4]), r[5].rjust(widths[5]), r[6], r[7]]
            out.append(" ".join(cells))
        if out:
            await proc.out("\n".join(out) + "\n")

    async def listing(arg: str, loc: Loc) -> list[tuple[str, Loc]]:
        nonlocal status
        try:
            names_ = fs.list_loc(loc, arg)
        except FsError as exc:
            await proc.err(f"cannot open directory {quote(arg)}: {exc.strerror}")
            status = 2
            return []
        entries = []
        if show == "all":
            entries.append((".", loc))
            parent = fs.walk(loc.path.rstrip("/") + "/..") if loc.path != "/" else loc
            entries.append(("..", parent))
        for name in names_:
            if name.startswith(".") and not show:
                continue
            try:
                child = fs.child(loc, name)
            except FsError:
                continue
            entries.append((name, child))
        return entries

    await emit(order(files), False)
    many = len(files) + len(dirs) > 1 or flags & {"R", "recursive"}
    first = not files
    queue = list(order(dirs))
    while queue:
        arg, loc = queue.pop(0)
        if many:
            await proc.out(("" if first else "\n") + f"{arg}:\n")
        first = False
        entries = order(await listing(arg, loc))
        await emit(entries, True)
        if flags & {"R", "recursive"}:
            subdirs = [(arg.rstrip("/") + "/" + name if arg != "/" else "/" + name, child)
                       for name, child in entries
                       if name not in (".", "..") and isinstance(child.node, Dir)]
            queue[0:0] = subdirs
    return status


def _classify(node, flags) -> str:
    if not flags & {"F", "classify", "p"}:
        return ""
    if isinstance(node, Dir):
        return "/"
    if "p" in flags:
        return ""
    if isinstance(node, Symlink):
        return "@"
    if isinstance(node, File) and node.mode & 0o111:
        return "*"
    return ""


# -- cat -----------------------------------------------------------------------
async def cat(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "nuAbsvET", ["number"])
    number = any(o in ("-n", "--number") for o, _ in opts)
    status = 0
    line_no = [1]
    for path in args or ["-"]:
        try:
            reader = proc.open_input(path)
        except FsError as exc:
            await proc.err(f"{quotef(path)}: {exc.strerror}")
            status = 1
            continue
        if not number:
            while True:
                chunk = await reader.read(CHUNK)
                if not chunk:
                    break
                await proc.stdout.write(chunk)
            continue
        while True:
            line = await reader.readline()
            if not line:
                break
            await proc.stdout.write(f"{line_no[0]:6d}\t".encode() + line)
            line_no[0] += 1
    return status


# -- mkdir / rmdir ---------------------------------------------------------------
async def mkdir(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "pm:v", ["parents", "mode=", "verbose"])
    parents = any(o in ("-p", "--parents") for o, _ in opts)
    verbose = any(o in ("-v", "--verbose") for o, _ in opts)
    mode = 0o777
    for o, v in opts:
        if o in ("-m", "--mode"):
            try:
                mode = parse_mode(v, 0o777, True, 0)
            except ValueError:
                raise UsageError(f"invalid mode {quote(v)}", hint=False) from None
    if not args:
        raise UsageError("missing operand")
    status = 0
    for path in args:
        try:
            proc.fs.mkdir(path, mode, parents=parents)
            if any(o in ("-m", "--mode") for o, _ in opts):
                proc.fs.chmod(path, mode)
            if verbose:
                await proc.out(f"mkdir: created directory {quote(path)}\n")
        except FsError as exc:
            await proc.err(f"cannot create directory {quote(path)}: {exc.strerror}")
            status = 1
    return status


async def rmdir(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "pv", ["parents", "ignore-fail-on-non-empty", "verbose"])
    parents = any(o in ("-p", "--parents") for o, _ in opts)
    ignore = any(o == "--ignore-fail-on-non-empty" for o, _ in opts)
    if not args:
        raise UsageError("missing operand")
    status = 0
    for path in args:
        targets = [path]
        if parents:
            parts = path.rstrip("/").split("/")
            targets = ["/".join(parts[:i]) for i in range(len(parts), 0, -1) if parts[:i] != [""]]
        for target in targets:
            try:
                proc.fs.rmdir(target)
            except FsError as exc:
                if not (ignore and exc.errno == errno.ENOTEMPTY):
                    await proc.err(f"failed to remove {quote(target)}: {exc.strerror}")
                    status = 1
                break
    return status


# -- rm ------------------------------------------------------------------------
async def rm(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "rRfidv", ["recursive", "force", "dir", "verbose",
                                              "no-preserve-root", "preserve-root",
                                              "interactive="])
    flags = {o for o, _ in opts}
    recursive = bool(flags & {"-r", "-R", "--recursive"})
    force = bool(flags & {"-f", "--force"})
    verbose = bool(flags & {"-v", "--verbose"})
    allow_dir = bool(flags & {"-d", "--dir"})
    if not args:
        if force:
            return 0
        raise UsageError("missing operand")
    fs = proc.fs
    status = 0

    async def remove(path: str, loc: Loc) -> bool:
        nonlocal status
        node = loc.node
        if isinstance(node, Dir):
            ok = True
            try:
                names = fs.list_loc(loc, path)
            except FsError as exc:
                await proc.err(f"cannot remove {quote(path)}: {exc.strerror}")
                status = 1
                return False
            for name in sorted(names):
                child_path = path.rstrip("/") + "/" + name
                try:
                    child = fs.child(loc, name)
                except FsError:
                    continue
                ok = await remove(child_path, child) and ok
            if not ok:
                return False
            try:
                fs.rmdir(path)
            except FsError as exc:
                await proc.err(f"cannot remove {quote(path)}: {exc.strerror}")
                status = 1
                return False
            if verbose:
                await proc.out(f"removed directory {quote(path)}\n")
            return True
        try:
            fs.unlink(path)
        except FsError as exc:
            await proc.err(f"cannot remove {quote(path)}: {exc.strerror}")
            status = 1
            return False
        if verbose:
            await proc.out(f"removed {quote(path)}\n")
        return True

    for path in args:
        if _base(path) in (".", ".."):
            await proc.err(f"refusing to remove '.' or '..' directory: skipping {quote(path)}")
            status = 1
            continue
        try:
            loc = fs.walk(path, follow=False)
        except FsError as exc:
            if not (force and exc.errno == errno.ENOENT):
                await proc.err(f"cannot remove {quote(path)}: {exc.strerror}")
                status = 1
            continue
        if isinstance(loc.node, Dir):
            if loc.path == "/" and recursive and "--no-preserve-root" not in flags:
                await proc.err("it is dangerous to operate recursively on '/'")
                await proc.err("use --no-preserve-root to override this failsafe")
                status = 1
                continue
            if not recursive:
                if allow_dir:
                    try:
                        fs.rmdir(path)
                    except FsError as exc:
                        await proc.err(f"cannot remove {quote(path)}: {exc.strerror}")
                        status = 1
                    continue
                await proc.err(f"cannot remove {quote(path)}: Is a directory")
                status = 1
                continue
        await remove(path, loc)
    return status


# -- cp / mv -------------------------------------------------------------------
def _target(fs, dest: str, sources: list[str], no_target_dir: bool) -> tuple[str, bool]:
    try:
        is_dir = isinstance(fs.walk(dest).node, Dir)
    except FsError:
        is_dir = False
    return dest, is_dir and not no_target_dir


async def cp(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "aRrpdfnvLPHTt:ulsx",
                       ["archive", "recursive", "preserve=", "no-preserve=", "force",
                        "no-clobber", "verbose", "dereference", "no-dereference",
                        "no-target-directory", "target-directory=", "parents", "update"])
    flags = {o for o, _ in opts}
    archive = bool(flags & {"-a", "--archive"})
    recursive = archive or bool(flags & {"-r", "-R", "--recursive"})
    preserve = archive or "-p" in flags or any(o == "--preserve" for o, _ in opts)
    no_clobber = bool(flags & {"-n", "--no-clobber"})
    verbose = bool(flags & {"-v", "--verbose"})
    follow_cmdline = bool(flags & {"-L", "-H", "--dereference"}) or \
        not (recursive or flags & {"-P", "-d", "--no-dereference"})
    target_dir = next((v for o, v in opts if o in ("-t", "--target-directory")), None)
    no_target = bool(flags & {"-T", "--no-target-directory"})
    if target_dir is None:
        if len(args) < 2:
            raise UsageError(f"missing destination file operand after {quote(args[0])}"
                             if args else "missing file operand")
        sources, dest = args[:-1], args[-1]
    else:
        sources, dest = args, target_dir
    fs = proc.fs
    dest, into = _target(fs, dest, sources, no_target)
    if len(sources) > 1 and not into:
        await proc.err(f"target {quote(dest)} is not a directory")
        return 1
    status = 0
    for src in sources:
        try:
            loc = fs.walk(src, follow=follow_cmdline)
        except FsError as exc:
            await proc.err(f"cannot stat {quote(src)}: {exc.strerror}")
            status = 1
            continue
        base = _base(src)
        target = dest.rstrip("/") + "/" + base if into and base not in (".", "..") else dest
        if into and base in (".", ".."):
            target = dest
        if isinstance(loc.node, Dir) and not recursive:
            await proc.err(f"-r not specified; omitting directory {quote(src)}")
            status = 1
            continue
        try:
            tloc = fs.walk(target, missing_ok=True)
            if isinstance(loc.node, Dir) and (tloc.path + "/").startswith(loc.path + "/") \
                    and tloc.path != loc.path:
                await proc.err(f"cannot copy a directory, {quote(src)}, into itself, "
                               f"{quote(target)}")
                status = 1
                continue
            if tloc.node is loc.node and not isinstance(loc.node, Dir):
                await proc.err(f"{quote(src)} and {quote(target)} are the same file")
                status = 1
                continue
        except FsError:
            pass
        problems: list = []
        try:
            copy_node(fs, loc, target, recursive=recursive, preserve=preserve,
                      follow=follow_cmdline, no_clobber=no_clobber, errors=problems)
            if verbose:
                await proc.out(f"{quote(src)} -> {quote(target)}\n")
        except FsError as exc:
            verb = "error writing" if exc.errno in (errno.ENOSPC, errno.EIO) else \
                "cannot create regular file" if not isinstance(loc.node, Dir) else \
                "cannot create directory"
            if exc.errno == errno.EISDIR:
                await proc.err(f"cannot overwrite directory {quote(target)} with "
                               f"non-directory")
            elif exc.errno == errno.ENOTDIR and isinstance(loc.node, Dir):
                await proc.err(f"cannot overwrite non-directory {quote(target)} with "
                               f"directory {quote(src)}")
            else:
                await proc.err(f"{verb} {quote(exc.path or target)}: {exc.strerror}")
            status = 1
        for path, exc, verb in problems:
            await proc.err(f"{verb} {quote(path)}: {exc.strerror}")
            status = 1
    return status


async def mv(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "fnvTt:iu", ["force", "no-clobber", "verbose",
                                                "no-target-directory", "target-directory="])
    flags = {o for o, _ in opts}
    target_dir = next((v for o, v in opts if o in ("-t", "--target-directory")), None)
    if target_dir is None:
        if len(args) < 2:
            raise UsageError(f"missing destination file operand after {quote(args[0])}"
                             if args else "missing file operand")
        sources, dest = args[:-1], args[-1]
    else:
        sources, dest = args, target_dir
    fs = proc.fs
    dest, into = _target(fs, dest, sources, bool(flags & {"-T", "--no-target-directory"}))
    if len(sources) > 1 and not into:
        await proc.err(f"target {quote(dest)} is not a directory")
        return 1
    status = 0
    for src in sources:
        target = dest.rstrip("/") + "/" + _base(src) if into else dest
        try:
            loc = fs.walk(src, follow=False)
        except FsError as exc:
            await proc.err(f"cannot stat {quote(src)}: {exc.strerror}")
            status = 1
            continue
        if flags & {"-n", "--no-clobber"} and fs.exists(target, follow=False):
            continue
        try:
            fs.rename(src, target)
        except FsError as exc:
            if exc.errno == errno.EXDEV:
                try:
                    if fs.exists(target, follow=False) and not isinstance(loc.node, Dir):
                        fs.unlink(target)
                    copy_node(fs, loc, target, recursive=True, preserve=True, follow=False)
                    await rm(Proc(proc.ctx, fs, proc.env, proc.stdin, proc.stdout,
                                  proc.stderr, "mv"), ["-rf", src])
                except FsError as inner:
                    await proc.err(f"cannot move {quote(src)} to {quote(target)}: "
                                   f"{inner.strerror}")
                    status = 1
                    continue
            elif exc.errno == errno.EINVAL:
                await proc.err(f"cannot move {quote(src)} to a subdirectory of itself, "
                               f"{quote(target)}")
                status = 1
                continue
            else:
                await proc.err(f"cannot move {quote(src)} to {quote(target)}: {exc.strerror}")
                status = 1
                continue
        if flags & {"-v", "--verbose"}:
            await proc.out(f"renamed {quote(src)} -> {quote(target)}\n")
    return status


# -- touch, ln -----------------------------------------------------------------
def parse_date(text: str) -> float | None:
    """``touch -d`` / ``date -d`` inputs: ``@epoch``, ISO dates and times (UTC)."""
    text = text.strip()
    if text.startswith("@"):
        try:
            return float(text[1:])
        except ValueError:
            return None
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?"
                     r"\s*(Z|UTC|[+-]\d{2}:?\d{2})?", text)
    if m:
        y, mo, d, hh, mm, ss, frac, tz = m.groups()
        ts = calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mm or 0),
                              int(ss or 0), 0, 0, 0)) + float(frac or 0)
        if tz and tz not in ("Z", "UTC"):
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            ts -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
        return ts
    try:
        return calendar.timegm(time.strptime(text, "%a %b %d %H:%M:%S %Z %Y"))
    except ValueError:
        return None


async def touch(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "acmd:t:r:h", ["no-create", "date=", "reference=",
                                                  "no-dereference"])
    fs = proc.fs
    when = None
    for o, v in opts:
        if o in ("-d", "--date"):
            when = parse_date(v)
            if when is None:
                raise UsageError(f"invalid date format {quote(v)}", hint=False)
        elif o == "-t":
            try:
                when = calendar.timegm(time.strptime(v.split(".")[0].rjust(12, "0")[-12:],
                                                     "%Y%m%d%H%M"))
            except ValueError:
                raise UsageError(f"invalid date format {quote(v)}", hint=False) from None
        elif o in ("-r", "--reference"):
            try:
                when = fs.walk(v).node.mtime
            except FsError as exc:
                await proc.err(f"failed to get attributes of {quote(v)}: {exc.strerror}")
                return 1
    no_create = any(o in ("-c", "--no-create") for o, _ in opts)
    if not args:
        raise UsageError("missing file operand")
    status = 0
    for path in args:
        try:
            if not fs.exists(path):
                if no_create:
                    continue
                fs.open_write(path, truncate=False)
            fs.utime(path, fs.now() if when is None else when)
        except FsError as exc:
            await proc.err(f"cannot touch {quote(path)}: {exc.strerror}")
            status = 1
    return status


async def ln(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "sfnTvr", ["symbolic", "force", "no-dereference",
                                              "no-target-directory", "verbose"])
    flags = {o for o, _ in opts}
    symbolic = bool(flags & {"-s", "--symbolic"})
    force = bool(flags & {"-f", "--force"})
    if not args:
        raise UsageError("missing file operand")
    fs = proc.fs
    if len(args) == 1:
        args = args + [_base(args[0])]
    sources, dest = args[:-1], args[-1]
    into = False
    if not flags & {"-T", "--no-target-directory"}:
        try:
            node = fs.walk(dest, follow=not flags & {"-n", "--no-dereference"}).node
            into = isinstance(node, Dir)
        except FsError:
            pass
    status = 0
    for src in sources:
        target = dest.rstrip("/") + "/" + _base(src) if into else dest
        try:
            if fs.exists(target, follow=False):
                if not force:
                    raise FsError(errno.EEXIST, target)
                fs.unlink(target)
            if not symbolic:
                fs.walk(src)
                raise FsError(errno.EPERM, target)
            fs.symlink(src, target)
        except FsError as exc:
            kind = "symbolic link" if symbolic else "hard link"
            await proc.err(f"failed to create {kind} {quote(target)}"
                           + (f" => {quote(src)}" if not symbolic else "")
                           + f": {exc.strerror}")
            status = 1
    return status


# -- chmod / chown ---------------------------------------------------------------
async def chmod(proc: Proc, argv: list[str]) -> int:
    # Symbolic modes like -w look like options; take the mode before option parsing.
    rest = list(argv)
    recursive = False
    mode_arg = None
    operands = []
    for arg in rest:
        if arg in ("-R", "--recursive"):
            recursive = True
        elif arg in ("-v", "-c", "-f", "--verbose", "--changes", "--silent", "--quiet"):
            continue
        elif mode_arg is None:
            mode_arg = arg
        else:
            operands.append(arg)
    if mode_arg is None:
        raise UsageError("missing operand")
    if not operands:
        raise UsageError(f"missing operand after {quote(mode_arg)}")
    fs = proc.fs
    status = 0
    for path in operands:
        try:
            loc = fs.walk(path)
        except FsError as exc:
            await proc.err(f"cannot access {quote(path)}: {exc.strerror}")
            status = 1
            continue
        todo = list(fs.walk_tree(loc)) if recursive and isinstance(loc.node, Dir) \
            else [(loc, 0)]
        for item, _ in todo:
            if isinstance(item.node, Symlink):
                continue
            try:
                mode = parse_mode(mode_arg, item.node.mode, isinstance(item.node, Dir),
                                  fs.umask)
            except ValueError:
                await proc.err(f"invalid mode: {quote(mode_arg)}")
                return 1
            try:
                fs.chmod(item.path, mode)
            except FsError as exc:
                await proc.err(f"changing permissions of {quote(item.path)}: {exc.strerror}")
                status = 1
    return status


async def _chown(proc: Proc, argv: list[str], group_only: bool) -> int:
    opts, args = parse(proc, argv, "Rhvcf", ["recursive", "no-dereference", "verbose",
                                             "reference="])
    recursive = any(o in ("-R", "--recursive") for o, _ in opts)
    if len(args) < 2:
        raise UsageError("missing operand" if not args else
                         f"missing operand after {quote(args[0])}")
    spec, paths = args[0], args[1:]
    names = Names(proc.fs)
    uid = gid = None
    if group_only:
        gid = names.gid_of(spec)
        if gid is None:
            await proc.err(f"invalid group: {quote(spec)}")
            return 1
    else:
        user, sep, group = spec.replace(".", ":", 1).partition(":") if ":" in spec or \
            "." in spec else (spec, "", "")
        if user:
            uid = names.uid_of(user)
            if uid is None:
                await proc.err(f"invalid user: {quote(spec)}")
                return 1
        if group:
            gid = names.gid_of(group)
            if gid is None:
                await proc.err(f"invalid group: {quote(spec)}")
                return 1
        elif sep and uid is not None:
            gid = uid
    fs = proc.fs
    status = 0
    for path in paths:
        try:
            loc = fs.walk(path)
        except FsError as exc:
            await proc.err(f"cannot access {quote(path)}: {exc.strerror}")
            status = 1
            continue
        items = list(fs.walk_tree(loc)) if recursive and isinstance(loc.node, Dir) \
            else [(loc, 0)]
        for item, _ in items:
            try:
                fs.chown(item.path, uid, gid, follow=False)
            except FsError as exc:
                what = "group" if group_only or uid is None else "ownership"
                await proc.err(f"changing {what} of {quote(item.path)}: {exc.strerror}")
                status = 1
    return status


async def chown(proc: Proc, argv: list[str]) -> int:
    return await _chown(proc, argv, False)


async def chgrp(proc: Proc, argv: list[str]) -> int:
    return await _chown(proc, argv, True)


# -- readlink / realpath / truncate / mktemp -------------------------------------
async def readlink(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "femnqsvz", ["canonicalize", "canonicalize-existing",
                                                "canonicalize-missing", "no-newline"])
    flags = {o for o, _ in opts}
    end = "" if flags & {"-n", "--no-newline"} else "\n"
    if not args:
        raise UsageError("missing operand")
    status = 0
    for path in args:
        try:
            if flags & {"-f", "-e", "-m", "--canonicalize", "--canonicalize-existing",
                        "--canonicalize-missing"}:
                value = _canonical(proc.fs, path, missing=bool(flags & {"-m", "-f"}))
            else:
                value = proc.fs.readlink(path)
            await proc.out(value + end)
        except FsError:
            status = 1
    return status


def _canonical(fs, path: str, missing: bool) -> str:
    try:
        return fs.walk(path).path
    except FsError:
        if not missing:
            raise
    full = normalize(fs.absolute(path))
    head, _, tail = full.rpartition("/")
    try:
        return fs.walk(head or "/").path.rstrip("/") + "/" + tail
    except FsError:
        return full


async def realpath(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "emsqz", ["canonicalize-existing", "canonicalize-missing",
                                             "strip", "no-symlinks", "relative-to="])
    flags = {o for o, _ in opts}
    if not args:
        raise UsageError("missing operand")
    status = 0
    for path in args:
        try:
            if flags & {"-s", "--strip", "--no-symlinks"}:
                value = normalize(proc.fs.absolute(path))
            else:
                value = _canonical(proc.fs, path, missing="-e" not in flags)
            await proc.out(value + "\n")
        except FsError as exc:
            await proc.err(f"{quotef(path)}: {exc.strerror}")
            status = 1
    return status


async def truncate(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "s:co", ["size=", "no-create"])
    spec = next((v for o, v in opts if o in ("-s", "--size")), None)
    if spec is None:
        raise UsageError("you must specify either '--size' or '--reference'")
    if not args:
        raise UsageError("missing file operand")
    no_create = any(o in ("-c", "--no-create") for o, _ in opts)
    status = 0
    for path in args:
        try:
            if no_create and not proc.fs.exists(path):
                continue
            handle = proc.fs.open_write(path, truncate=False)
            current = handle.node.size() if hasattr(handle.node, "data") else 0
            op = spec[0] if spec[0] in "+-<>/%" else ""
            size = parse_size(spec[1:] if op else spec)
            new = {"": size, "+": current + size, "-": max(0, current - size),
                   "<": min(current, size), ">": max(current, size)}.get(op, size)
            handle.truncate(new)
        except ValueError:
            raise UsageError(f"Invalid number: {quote(spec)}", hint=False) from None
        except FsError as exc:
            await proc.err(f"cannot open {quote(path)} for writing: {exc.strerror}")
            status = 1
    return status


async def fallocate(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "l:o:nv", ["length=", "offset=", "keep-size", "verbose"])
    length = next((v for o, v in opts if o in ("-l", "--length")), None)
    offset = next((v for o, v in opts if o in ("-o", "--offset")), "0")
    if length is None:
        raise UsageError("no length argument specified")
    if len(args) != 1:
        raise UsageError("no filename specified" if not args else
                         "unexpected number of arguments")
    try:
        size, start = parse_size(length), parse_size(offset)
    except ValueError as exc:
        raise UsageError(f"invalid length value specified: {quote(str(exc))}",
                         hint=False) from None
    try:
        handle = proc.fs.open_write(args[0], truncate=False)
    except FsError as exc:
        await proc.err(f"cannot open {args[0]}: {exc.strerror}")
        return 1
    current = handle.node.size() if hasattr(handle.node, "data") else 0
    wanted = start + size
    if wanted > current and not any(o in ("-n", "--keep-size") for o, _ in opts):
        if wanted - current > handle.volume.available():
            await proc.err("fallocate failed: No space left on device")
            return 1
        handle.truncate(wanted)
    return 0


async def mktemp(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "dqup:t", ["directory", "quiet", "dry-run", "tmpdir="])
    flags = {o for o, _ in opts}
    directory = bool(flags & {"-d", "--directory"})
    base = next((v for o, v in opts if o in ("-p", "--tmpdir")), None)
    template = args[0] if args else "tmp.XXXXXXXXXX"
    if "/" not in template and (base is not None or not args or "-t" in flags):
        template = (base or proc.env.get("TMPDIR") or "/tmp").rstrip("/") + "/" + template
    stem = template.rstrip("X")
    count = len(template) - len(stem)
    if count < 3:
        await proc.err(f"too few X's in template {quote(template)}")
        return 1
    rng = random.Random()
    for _ in range(100):
        name = stem + "".join(rng.choice(string.ascii_letters + string.digits)
                              for _ in range(count))
        try:
            if directory:
                proc.fs.mkdir(name, 0o700)
            else:
                proc.fs.open_write(name, exclusive=True, mode=0o600)
        except FsError as exc:
            if exc.errno == errno.EEXIST:
                continue
            await proc.err(f"failed to create {'directory' if directory else 'file'} via "
                           f"template {quote(template)}: {exc.strerror}")
            return 1
        await proc.out(name + "\n")
        return 0
    return 1


COMMANDS = {"ls": ls, "cat": cat, "mkdir": mkdir, "rmdir": rmdir, "rm": rm, "cp": cp,
            "mv": mv, "touch": touch, "ln": ln, "chmod": chmod, "chown": chown,
            "chgrp": chgrp, "readlink": readlink, "realpath": realpath,
            "truncate": truncate, "mktemp": mktemp, "fallocate": fallocate}
