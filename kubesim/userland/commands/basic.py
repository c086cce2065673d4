"""Small commands: echo, printf, test/[, true, false, sleep, env, printenv, pwd, id, whoami,
hostname, uname, date, yes, seq, nproc, sync, basename, dirname, which."""

from __future__ import annotations

import asyncio
import errno
import re
import time

from ...fs.errors import FsError
from ...fs.nodes import Device, Dir, File, Symlink
from ..process import Proc, UsageError, parse, quote
from ..runner import find_program, run_program
from .common import Names
from .files import parse_date

ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           "\\": "\\", "e": "\x1b", '"': '"', "'": "'"}


def unescape(text: str, echo: bool = False) -> tuple[str, bool]:
    """Backslash escapes (``printf``/``echo -e``); returns ``(text, stop)`` for ``\\c``."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch != "\\" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "c":
            return "".join(out), True
        if nxt in ESCAPES and not (echo and nxt in "\"'"):
            out.append(ESCAPES[nxt])
            i += 2
        elif echo and nxt == "0":
            digits = re.match(r"[0-7]{0,3}", text[i + 2:]).group(0)
            out.append(_byte(int(digits or "0", 8)))
            i += 2 + len(digits)
        elif not echo and nxt in "01234567":
            digits = re.match(r"[0-7]{1,3}", text[i + 1:]).group(0)
            out.append(_byte(int(digits, 8)))
            i += 1 + len(digits)
        elif nxt == "x":
            digits = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2:])
            if digits:
                out.append(_byte(int(digits.group(0), 16)))
                i += 2 + len(digits.group(0))
            else:
                out.append("\\x")
                i += 2
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out), False


def _byte(value: int) -> str:
    # A raw byte from an escape: bytes >= 0x80 ride as surrogates so UTF-8 encoding with
    # surrogateescape writes exactly that byte.
    value &= 0xFF
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


async def echo(proc: Proc, argv: list[str]) -> int:
    newline, interpret = True, False
    args = list(argv)
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for flag in args[0][1:]:
            if flag == "n":
                newline = False
            elif flag == "e":
                interpret = True
            else:
                interpret = False
        args.pop(0)
    text = " ".join(args)
    if interpret:
        text, stop = unescape(text, echo=True)
        if stop:
            newline = False
    await proc.stdout.write(_latin(text) + (b"\n" if newline else b""))
    return 0


def _latin(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


_SPEC = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXeEfFgGcsbq%])")


def _number(proc_errors: list, text: str, kind: str):
    raw = text.strip()
    try:
        if raw[:1] in "'\"" and len(raw) > 1:
            return ord(raw[1])
        if kind in "eEfFgG":
            return float(raw) if raw else 0.0
        return int(raw, 0) if raw.lower().startswith(("0x", "-0x")) else \
            int(raw, 8) if re.fullmatch(r"-?0[0-7]+", raw) else int(raw) if raw else 0
    except ValueError:
        proc_errors.append(raw)
        m = re.match(r"-?\d+", raw)
        return (float(m.group(0)) if kind in "eEfFgG" else int(m.group(0))) if m else 0


def printf_format(fmt: str, args: list[str], errors: list) -> tuple[str, bool]:
    """Render one printf call (format reused while arguments remain)."""
    out: list[str] = []
    args = list(args)
    first = True
    while first or args:
        first = False
        consumed = False
        pos = 0
        for m in _SPEC.finditer(fmt):
            text, stop = unescape(fmt[pos:m.start()])
            out.append(text)
            if stop:
                return "".join(out), True
            pos = m.end()
            flags, width, precision, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = str(_number(errors, args.pop(0), "d")) if args else "0"
                consumed = True
            if precision == "*":
                precision = str(_number(errors, args.pop(0), "d")) if args else "0"
                consumed = True
            arg = args.pop(0) if args else None
            consumed = consumed or arg is not None
            spec = "%" + (flags or "") + (width or "") + (f".{precision}" if precision
                                                            is not None else "")
            if conv == "s":
                out.append((spec + "s") % (arg or ""))
            elif conv == "b":
                text, stop = unescape(arg or "", echo=True)
                out.append((spec + "s") % text)
                if stop:
                    return "".join(out), True
            elif conv == "q":
                out.append((spec + "s") % _shquote(arg or ""))
            elif conv == "c":
                out.append((spec + "s") % ((arg or "")[:1]))
            elif conv in "diouxX":
                value = _number(errors, arg or "0", conv)
                value = int(value)
                if conv == "u":
                    conv = "d"
                    value = value % (1 << 64) if value < 0 else value
                if conv == "i":
                    conv = "d"
                out.append((spec + conv) % value)
            else:
                out.append((spec + conv) % float(_number(errors, arg or "0", conv)))
        text, stop = unescape(fmt[pos:])
        out.append(text)
        if stop:
            return "".join(out), True
        if not consumed:
            break
    return "".join(out), False


def _shquote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "@%+=:,./-_" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


async def printf(proc: Proc, argv: list[str]) -> int:
    args = argv[1:] if argv[:1] == ["--"] else list(argv)
    if not args:
        raise UsageError("missing operand")
    errors: list[str] = []
    text, _ = printf_format(args[0], args[1:], errors)
    await proc.stdout.write(_latin(text))
    for bad in errors:
        await proc.err(f"{quote(bad)}: expected a numeric value")
    return 1 if errors else 0


# -- test ------------------------------------------------------------------------
class _TestError(Exception):
    pass


def _file_test(proc: Proc, op: str, path: str) -> bool:
    fs = proc.fs
    try:
        loc = fs.walk(path, follow=op not in ("-L", "-h"))
    except FsError:
        return False
    node = loc.node
    if op == "-e":
        return True
    if op == "-f":
        return isinstance(node, File)
    if op == "-d":
        return isinstance(node, Dir)
    if op in ("-L", "-h"):
        return isinstance(node, Symlink)
    if op == "-s":
        return node.size() > 0
    if op == "-c":
        return isinstance(node, Device)
    if op in ("-b", "-p", "-S"):
        return False
    if op == "-r":
        return fs.may(node, 4)
    if op == "-w":
        return fs.may(node, 2) and not loc.mount.readonly
    if op == "-x":
        return fs.may(node, 1)
    if op == "-u":
        return bool(node.mode & 0o4000)
    if op == "-g":
        return bool(node.mode & 0o2000)
    if op == "-k":
        return bool(node.mode & 0o1000)
    if op == "-O":
        return node.uid == fs.uid
    if op == "-G":
        return node.gid == fs.gid
    return False


UNARY = {"-e", "-f", "-d", "-L", "-h", "-s", "-r", "-w", "-x", "-c", "-b", "-p", "-S", "-u",
         "-g", "-k", "-O", "-G", "-z", "-n", "-t"}
BINARY = {"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot",
          "-ef"}


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _TestError(f"{text}: bad number") from None


def _binary(proc: Proc, a: str, op: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op in ("-nt", "-ot", "-ef"):
        try:
            na, nb = proc.fs.walk(a).node, proc.fs.walk(b).node
        except FsError:
            return False
        return {"-nt": na.mtime > nb.mtime, "-ot": na.mtime < nb.mtime,
                "-ef": na is nb}[op]
    x, y = _int(a), _int(b)
    return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y,
            "-ge": x >= y}[op]


def _evaluate(proc: Proc, args: list[str]) -> bool:
    n = len(args)
    if n == 0:
        return False
    if n == 1:
        return args[0] != ""
    if n == 2:
        if args[0] == "!":
            return args[1] == ""
        if args[0] in UNARY:
            op, value = args
            if op == "-z":
                return value == ""
            if op == "-n":
                return value != ""
            if op == "-t":
                return proc.ctx.tty and value in ("0", "1")
            return _file_test(proc, op, value)
        raise _TestError(f"{args[0]}: unary operator expected")
    if n == 3:
        if args[1] in BINARY:
            return _binary(proc, *args)
        if args[0] == "!":
            return not _evaluate(proc, args[1:])
        if args[0] == "(" and args[2] == ")":
            return _evaluate(proc, [args[1]])
        if args[1] in ("-a", "-o"):
            left, right = _evaluate(proc, [args[0]]), _evaluate(proc, [args[2]])
            return left and right if args[1] == "-a" else left or right
        raise _TestError(f"{args[1]}: binary operator expected")
    if n == 4:
        if args[0] == "!":
            return not _evaluate(proc, args[1:])
        if args[0] == "(" and args[3] == ")":
            return _evaluate(proc, args[1:3])
    # General case: -o has the lowest precedence, then -a, then !, then ( ).
    depth = 0
    for i, arg in enumerate(args):
        if arg == "(":
            depth += 1
        elif arg == ")":
            depth -= 1
        elif arg == "-o" and depth == 0 and 0 < i < n - 1:
            return _evaluate(proc, args[:i]) or _evaluate(proc, args[i + 1:])
    depth = 0
    for i, arg in enumerate(args):
        if arg == "(":
            depth += 1
        elif arg == ")":
            depth -= 1
        elif arg == "-a" and depth == 0 and 0 < i < n - 1:
            return _evaluate(proc, args[:i]) and _evaluate(proc, args[i + 1:])
    if args[0] == "!":
        return not _evaluate(proc, args[1:])
    if args[0] == "(" and args[-1] == ")":
        return _evaluate(proc, args[1:-1])
    raise _TestError("syntax error")


async def test(proc: Proc, argv: list[str]) -> int:
    args = list(argv)
    if proc.name == "[":
        if not args or args[-1] != "]":
            await proc.err("missing ]")
            return 2
        args = args[:-1]
    try:
        return 0 if _evaluate(proc, args) else 1
    except _TestError as exc:
        await proc.err(str(exc))
        return 2


async def true(proc: Proc, argv: list[str]) -> int:
    return 0


async def false(proc: Proc, argv: list[str]) -> int:
    return 1


# -- processes and environment ---------------------------------------------------
def _duration(text: str) -> float:
    if text in ("inf", "infinity"):
        return float("inf")
    m = re.fullmatch(r"(\d*\.?\d+)([smhd]?)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


async def sleep(proc: Proc, argv: list[str]) -> int:
    if not argv:
        raise UsageError("missing operand")
    total = 0.0
    for arg in argv:
        try:
            total += _duration(arg)
        except ValueError:
            raise UsageError(f"invalid time interval {quote(arg)}") from None
    await proc.stdout.flush()
    if total == float("inf"):
        await asyncio.Event().wait()
    await asyncio.sleep(total)
    return 0


async def env(proc: Proc, argv: list[str]) -> int:
    environ = dict(proc.env)
    args = list(argv)
    null = False
    while args and args[0].startswith("-") and args[0] != "-":
        arg = args.pop(0)
        if arg == "--":
            break
        if arg in ("-i", "--ignore-environment"):
            environ = {}
        elif arg in ("-0", "--null"):
            null = True
        elif arg in ("-u", "--unset"):
            if not args:
                raise UsageError("option requires an argument -- 'u'")
            environ.pop(args.pop(0), None)
        elif arg.startswith("-u"):
            environ.pop(arg[2:], None)
        else:
            raise UsageError(f"invalid option -- '{arg[1:2]}'", status=125)
    if args and args[0] == "-":
        environ = {}
        args.pop(0)
    while args and "=" in args[0] and not args[0].startswith("="):
        key, _, value = args.pop(0).partition("=")
        environ[key] = value
    if not args:
        end = "\0" if null else "\n"
        await proc.out("".join(f"{k}={v}{end}" for k, v in environ.items()))
        return 0
    status = await run_program(proc, args, environ)
    if isinstance(status, tuple):
        code, text = status
        await proc.err(f"{quote(args[0])}: {text}")
        return 127 if code == errno.ENOENT else 126
    return status


async def printenv(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "0", ["null"])
    end = "\0" if opts else "\n"
    if not args:
        await proc.out("".join(f"{k}={v}{end}" for k, v in proc.env.items()))
        return 0
    status = 0
    for name in args:
        if name in proc.env:
            await proc.out(proc.env[name] + end)
        else:
            status = 1
    return status


async def pwd(proc: Proc, argv: list[str]) -> int:
    physical = "-P" in argv
    cwd = proc.fs.cwd
    if physical:
        try:
            cwd = proc.fs.realpath(cwd)
        except FsError:
            pass
    await proc.out(cwd + "\n")
    return 0


async def id_(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "ugGnr", ["user", "group", "groups", "name", "real"])
    flags = {o for o, _ in opts}
    names = Names(proc.fs)
    fs = proc.fs
    groups = list(dict.fromkeys(fs.groups))
    by_name = bool(flags & {"-n", "--name"})
    if flags & {"-u", "--user"}:
        await proc.out((names.user(fs.uid) if by_name else str(fs.uid)) + "\n")
    elif flags & {"-g", "--group"}:
        await proc.out((names.group(fs.gid) if by_name else str(fs.gid)) + "\n")
    elif flags & {"-G", "--groups"}:
        await proc.out(" ".join(names.group(g) if by_name else str(g) for g in groups) + "\n")
    else:
        def label(n, name):
            return f"{n}({name})" if name != str(n) else str(n)
        await proc.out(f"uid={label(fs.uid, names.user(fs.uid))} "
                       f"gid={label(fs.gid, names.group(fs.gid))} groups="
                       + ",".join(label(g, names.group(g)) for g in groups) + "\n")
    return 0


async def whoami(proc: Proc, argv: list[str]) -> int:
    name = Names(proc.fs).users.get(proc.fs.uid)
    if name is None:
        await proc.err(f"cannot find name for user ID {proc.fs.uid}")
        return 1
    await proc.out(name + "\n")
    return 0


async def hostname(proc: Proc, argv: list[str]) -> int:
    if "-i" in argv or "-I" in argv:
        await proc.out((proc.ctx.pod_ip or "127.0.0.1") + "\n")
        return 0
    if "-f" in argv or "--fqdn" in argv:
        await proc.out(proc.ctx.hostname + "\n")
        return 0
    if argv and not argv[0].startswith("-"):
        await proc.err("you must be root to change the host name")
        return 1
    await proc.out(proc.ctx.hostname + "\n")
    return 0


async def uname(proc: Proc, argv: list[str]) -> int:
    opts, _ = parse(proc, argv, "asnrvmpio", ["all", "kernel-name", "nodename",
                                              "kernel-release", "machine"])
    flags = {o for o, _ in opts} or {"-s"}
    release, version = "6.1.0-kubesim", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0 (2024-01-01)"
    fields = [("-s", "Linux"), ("-n", proc.ctx.hostname), ("-r", release), ("-v", version),
              ("-m", "x86_64"), ("-p", "unknown"), ("-i", "unknown"), ("-o", "GNU/Linux")]
    if flags & {"-a", "--all"}:
        shown = [v for k, v in fields if k not in ("-p", "-i")]
    else:
        long_map = {"--kernel-name": "-s", "--nodename": "-n", "--kernel-release": "-r",
                    "--machine": "-m"}
        wanted = {long_map.get(f, f) for f in flags}
        shown = [v for k, v in fields if k in wanted]
    await proc.out(" ".join(shown) + "\n")
    return 0


def strftime(fmt: str, ts: float) -> str:
    """GNU ``date +FORMAT`` in UTC (``%s`` epoch, ``%N`` nanoseconds)."""
    t = time.gmtime(int(ts))
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%" or i + 1 >= len(fmt):
            out.append(ch)
            i += 1
            continue
        spec = fmt[i + 1]
        i += 2
        if spec == "s":
            out.append(str(int(ts)))
        elif spec == "N":
            out.append(f"{int(round((ts - int(ts)) * 1e9)) % 1_000_000_000:09d}")
        elif spec == "Z":
            out.append("UTC")
        elif spec == "z":
            out.append("+0000")
        elif spec == "e":
            out.append(f"{t.tm_mday:2d}")
        elif spec == "P":
            out.append(time.strftime("%p", t).lower())
        else:
            out.append(time.strftime("%" + spec, t))
    return "".join(out)


async def date(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "ud:Rr:I::s:", ["utc", "date=", "rfc-2822", "reference=",
                                                   "iso-8601==", "rfc-3339="])
    ts = proc.ctx.now()
    fmt = "%a %b %e %H:%M:%S %Z %Y"
    for o, v in opts:
        if o in ("-d", "--date"):
            parsed = parse_date(v)
            if parsed is None:
                await proc.err(f"invalid date {quote(v)}")
                return 1
            ts = parsed
        elif o in ("-r", "--reference"):
            try:
                ts = proc.fs.walk(v).node.mtime
            except FsError as exc:
                await proc.err(f"{v}: {exc.strerror}")
                return 1
        elif o in ("-R", "--rfc-2822"):
            fmt = "%a, %d %b %Y %H:%M:%S %z"
        elif o in ("-I", "--iso-8601"):
            fmt = {"": "%Y-%m-%d", "date": "%Y-%m-%d", "hours": "%Y-%m-%dT%H%z",
                   "minutes": "%Y-%m-%dT%H:%M%z", "seconds": "%Y-%m-%dT%H:%M:%S+00:00",
                   "ns": "%Y-%m-%dT%H:%M:%S,%N+00:00"}.get(v, "%Y-%m-%d")
        elif o == "-s":
            await proc.err("cannot set date: Operation not permitted")
            return 1
    for arg in args:
        if arg.startswith("+"):
            fmt = arg[1:]
        else:
            await proc.err(f"invalid date {quote(arg)}")
            return 1
    await proc.out(strftime(fmt, ts) + "\n")
    return 0


async def yes(proc: Proc, argv: list[str]) -> int:
    line = ((" ".join(argv) if argv else "y") + "\n").encode()
    block = line * max(1, 8192 // len(line))
    while True:
        await proc.stdout.write(block)
        await asyncio.sleep(0)


async def seq(proc: Proc, argv: list[str]) -> int:
    sep, width = "\n", False
    args = []
    it = iter(argv)
    for arg in it:
        if arg in ("-s", "--separator"):
            sep = next(it, "\n")
        elif arg.startswith("-s") and len(arg) > 2:
            sep = arg[2:]
        elif arg in ("-w", "--equal-width"):
            width = True
        else:
            args.append(arg)
    try:
        nums = [float(a) if "." in a or "e" in a.lower() else int(a) for a in args]
    except ValueError:
        bad = next(a for a in args if not re.fullmatch(r"-?\d+(\.\d+)?", a))
        raise UsageError(f"invalid floating point argument: {quote(bad)}") from None
    if not 1 <= len(nums) <= 3:
        raise UsageError("missing operand" if not nums else f"extra operand {quote(args[3])}")
    first, step, last = (1, 1, nums[0]) if len(nums) == 1 else \
        (nums[0], 1, nums[1]) if len(nums) == 2 else tuple(nums)
    if step == 0:
        raise UsageError("invalid Zero increment value: '0'")
    out, value = [], first
    digits = max(len(str(int(first))), len(str(int(last)))) if width else 0
    while (step > 0 and value <= last) or (step < 0 and value >= last):
        out.append(str(value).zfill(digits) if isinstance(value, int) else f"{value:g}")
        value += step
        if len(out) >= 4096:
            await proc.out(sep.join(out) + sep)
            out = []
    if out:
        await proc.out(sep.join(out) + "\n")
    return 0


async def nproc(proc: Proc, argv: list[str]) -> int:
    await proc.out(f"{proc.ctx.cpus}\n")
    return 0


async def sync(proc: Proc, argv: list[str]) -> int:
    return 0


async def basename(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "as:z", ["multiple", "suffix=", "zero"])
    suffix = next((v for o, v in opts if o in ("-s", "--suffix")), None)
    multiple = suffix is not None or any(o in ("-a", "--multiple") for o, _ in opts)
    if not args:
        raise UsageError("missing operand")
    if not multiple:
        if len(args) > 2:
            raise UsageError(f"extra operand {quote(args[2])}")
        names, suffix = [args[0]], (args[1] if len(args) == 2 else None)
    else:
        names = args
    for name in names:
        stripped = name.rstrip("/") or ("/" if name else "")
        base = stripped.rsplit("/", 1)[-1] if stripped != "/" else "/"
        if suffix and base.endswith(suffix) and base != suffix:
            base = base[:-len(suffix)]
        await proc.out(base + "\n")
    return 0


async def dirname(proc: Proc, argv: list[str]) -> int:
    if not argv:
        raise UsageError("missing operand")
    for name in argv:
        stripped = name.rstrip("/")
        if "/" not in stripped:
            result = "/" if name.startswith("/") else "."
        else:
            result = stripped.rsplit("/", 1)[0].rstrip("/") or "/"
        await proc.out(result + "\n")
    return 0


async def which(proc: Proc, argv: list[str]) -> int:
    every = "-a" in argv
    status = 0
    for name in (a for a in argv if a != "-a"):
        path_env = proc.env.get("PATH", "")
        found_any = False
        directories = path_env.split(":") if "/" not in name else [""]
        for directory in directories:
            candidate = name if "/" in name else f"{directory or '.'}/{name}"
            found = find_program(proc.fs, candidate, "")
            if isinstance(found, tuple) and proc.fs.may(found[1], 1):
                await proc.out(candidate + "\n")
                found_any = True
                if not every:
                    break
        if not found_any:
            status = 1
    return status


COMMANDS = {"echo": echo, "printf": printf, "test": test, "[": test, "true": true,
            "false": false, "sleep": sleep, "env": env, "printenv": printenv, "pwd": pwd,
            "id": id_, "whoami": whoami, "hostname": hostname, "uname": uname, "date": date,
            "yes": yes, "seq": seq, "nproc": nproc, "sync": sync, "basename": basename,
            "dirname": dirname, "which": which}
