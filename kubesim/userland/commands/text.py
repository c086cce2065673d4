"""Text and data commands: head, tail, wc, grep, sort, uniq, cut, tr, tee, sed, md5sum and
sha*sum, base64, cmp, xargs, dd."""

from __future__ import annotations

import asyncio
import base64 as b64
import errno
import hashlib
import re
import time
from collections import deque

from ...fs.errors import FsError
from ...fs.nodes import Dir
from ..process import Proc, UsageError, parse, quote, quotef
from ..runner import run_program
from ..streams import CHUNK, FileReader
from .basic import unescape
from .common import parse_size


def _count(text: str, what: str) -> tuple[int, bool]:
    """``N`` or ``-N`` / ``+N`` argument of head/tail: (number, sign flag)."""
    sign = text[:1] in "+-" and text[:1]
    try:
        return parse_size(text.lstrip("+-")), sign
    except ValueError:
        raise UsageError(f"invalid number of {what}: {quote(text)}", hint=False) from None


def _legacy(argv: list[str]) -> list[str]:
    # head -5 / tail -5 / tail +5 (obsolete forms GNU still accepts).
    if argv and re.fullmatch(r"-\d+[cl]?", argv[0]):
        return ["-n", argv[0][1:].rstrip("l")] + argv[1:] if not argv[0].endswith("c") \
            else ["-c", argv[0][1:-1]] + argv[1:]
    if argv and re.fullmatch(r"\+\d+", argv[0]):
        return ["-n", argv[0]] + argv[1:]
    return argv


async def head(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, _legacy(argv), "n:c:qv", ["lines=", "bytes=", "quiet", "silent",
                                                        "verbose"])
    lines, count, negative = True, 10, False
    for o, v in opts:
        if o in ("-n", "--lines"):
            lines = True
            count, sign = _count(v, "lines")
            negative = sign == "-"
        elif o in ("-c", "--bytes"):
            lines = False
            count, sign = _count(v, "bytes")
            negative = sign == "-"
    files = args or ["-"]
    headers = (len(files) > 1 and not any(o in ("-q", "--quiet", "--silent") for o, _ in opts)) \
        or any(o in ("-v", "--verbose") for o, _ in opts)
    status = 0
    for idx, path in enumerate(files):
        try:
            reader = proc.open_input(path)
        except FsError as exc:
            await proc.err(f"cannot open {quote(path)} for reading: {exc.strerror}")
            status = 1
            continue
        if headers:
            await proc.out(("\n" if idx else "") + f"==> "
                           f"{'standard input' if path == '-' else path} <==\n")
        try:
            await _head_one(proc, reader, lines, count, negative)
        except FsError as exc:
            if exc.errno == errno.EPIPE:
                raise
            await proc.err(f"error writing 'standard output': {exc.strerror}")
            return 1
    return status


async def _head_one(proc, reader, lines: bool, count: int, negative: bool) -> None:
    if negative:
        data = await reader.read()
        if lines:
            parts = data.splitlines(keepends=True)
            data = b"".join(parts[:max(0, len(parts) - count)])
        else:
            data = data[:max(0, len(data) - count)]
        await proc.stdout.write(data)
        return
    if not lines:
        remaining = count
        while remaining > 0:
            chunk = await reader.read(min(CHUNK, remaining))
            if not chunk:
                break
            await proc.stdout.write(chunk)
            remaining -= len(chunk)
        return
    for _ in range(count):
        line = await reader.readline()
        if not line:
            break
        await proc.stdout.write(line)


async def tail(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, _legacy(argv), "n:c:fFqvs:", ["lines=", "bytes=", "follow",
                                                            "quiet", "verbose", "retry"])
    lines, count, from_start, follow = True, 10, False, False
    for o, v in opts:
        if o in ("-n", "--lines", "-c", "--bytes"):
            lines = o in ("-n", "--lines")
            count, sign = _count(v, "lines" if lines else "bytes")
            from_start = sign == "+"
        elif o in ("-f", "-F", "--follow"):
            follow = True
    files = args or ["-"]
    headers = len(files) > 1 and not any(o in ("-q", "--quiet") for o, _ in opts)
    status = 0
    for idx, path in enumerate(files):
        try:
            reader = proc.open_input(path)
        except FsError as exc:
            await proc.err(f"cannot open {quote(path)} for reading: {exc.strerror}")
            status = 1
            continue
        if headers:
            await proc.out(("\n" if idx else "") + f"==> {path} <==\n")
        if from_start:
            skip = max(0, count - 1)
            if lines:
                for _ in range(skip):
                    if not await reader.readline():
                        break
            else:
                while skip:
                    chunk = await reader.read(min(skip, CHUNK))
                    if not chunk:
                        break
                    skip -= len(chunk)
            while True:
                chunk = await reader.read(CHUNK)
                if not chunk:
                    break
                await proc.stdout.write(chunk)
        elif lines:
            keep: deque[bytes] = deque(maxlen=count or None)
            if count:
                while True:
                    line = await reader.readline()
                    if not line:
                        break
                    keep.append(line)
            await proc.stdout.write(b"".join(keep) if count else b"")
        else:
            data = await reader.read()
            await proc.stdout.write(data[-count:] if count else b"")
        if follow and isinstance(reader, FileReader) and len(files) == 1:
            await proc.stdout.flush()
            while True:
                await asyncio.sleep(0.2)
                chunk = await reader.read(CHUNK)
                if chunk:
                    await proc.stdout.write(chunk)
                    await proc.stdout.flush()
    return status


async def wc(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "lwcmL", ["lines", "words", "bytes", "chars"])
    flags = {o for o, _ in opts}
    which = [k for k, names in (("l", ("-l", "--lines")), ("w", ("-w", "--words")),
                                ("m", ("-m", "--chars")), ("c", ("-c", "--bytes")))
             if flags & set(names)] or ["l", "w", "c"]
    files = args or ["-"]
    rows, status = [], 0
    totals = dict.fromkeys("lwmc", 0)
    for path in files:
        try:
            reader = proc.open_input(path)
        except FsError as exc:
            await proc.err(f"{quotef(path)}: {exc.strerror}")
            status = 1
            continue
        counts = dict.fromkeys("lwmc", 0)
        in_word = False
        while True:
            chunk = await reader.read(CHUNK)
            if not chunk:
                break
            counts["c"] += len(chunk)
            counts["l"] += chunk.count(b"\n")
            if "w" in which or "m" in which:
                text = chunk.decode(errors="replace")
                counts["m"] += len(text)
                words = text.split()
                if words:
                    counts["w"] += len(words) - (1 if in_word and not text[0].isspace() else 0)
                in_word = bool(text) and not text[-1].isspace()
        for k in totals:
            totals[k] += counts[k]
        rows.append(([counts[k] for k in which], "" if path == "-" else path))
    if len(files) > 1:
        rows.append(([totals[k] for k in which], "total"))
    if not rows:
        return status
    if len(which) == 1 and len(rows) == 1:
        width = 0
    elif files == ["-"]:
        width = 7
    else:
        width = max(len(str(v)) for r, _ in rows for v in r)
    for values, name in rows:
        text = " ".join(str(v).rjust(width) for v in values)
        await proc.out(text + (f" {name}" if name else "") + "\n")
    return status


# -- grep ------------------------------------------------------------------------
_CLASSES = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
            "lower": "a-z", "space": r" \t\n\r\f\v", "blank": r" \t", "punct":
            r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f", "print": r" -~", "graph": "!-~",
            "cntrl": r"\x00-\x1f\x7f"}


def _brackets(pattern: str) -> str:
    return re.sub(r"\[:(\w+):\]", lambda m: _CLASSES.get(m.group(1), m.group(0)), pattern)


def bre_to_python(pattern: str, extended: bool) -> str:
    """Translate a POSIX basic/extended regular expression to Python syntax."""
    pattern = _brackets(pattern)
    if extended:
        return pattern
    out, i = [], 0
    special = {"(": r"\(", ")": r"\)", "{": r"\{", "}": r"\}", "|": r"\|", "+": r"\+",
               "?": r"\?"}
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if nxt in "(){}|+?" else "\\" + nxt)
            i += 2
        elif ch == "[":
            j = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("]", "^") else i + 1)
            if j < 0:
                out.append(r"\[")
                i += 1
            else:
                out.append(pattern[i:j + 1])
                i = j + 1
        elif ch == "*" and (not out or out[-1] in ("(", "|", "^")):
            out.append(r"\*")
            i += 1
        else:
            out.append(special.get(ch, ch))
            i += 1
    return "".join(out)


async def grep(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "ivclLnhHqsrRFEGwxoe:f:m:aA:B:C:z",
                       ["ignore-case", "invert-match", "count", "files-with-matches",
                        "files-without-match", "line-number", "no-filename", "with-filename",
                        "quiet", "silent", "no-messages", "recursive", "fixed-strings",
                        "extended-regexp", "basic-regexp", "word-regexp", "line-regexp",
                        "only-matching", "regexp=", "file=", "max-count=", "color=",
                        "colour=", "include=", "exclude=", "text"])
    flags = {o for o, _ in opts}
    patterns = [v for o, v in opts if o in ("-e", "--regexp")]
    for o, v in opts:
        if o in ("-f", "--file"):
            try:
                patterns += proc.fs.read_bytes(v).decode(errors="replace").splitlines()
            except FsError as exc:
                await proc.err(f"{v}: {exc.strerror}")
                return 2
    if not patterns:
        if not args:
            raise UsageError("Usage: grep [OPTION]... PATTERNS [FILE]...", status=2,
                             hint=False)
        patterns = args[0].split("\n")
        args = args[1:]
    fixed = bool(flags & {"-F", "--fixed-strings"}) or proc.name == "fgrep"
    extended = bool(flags & {"-E", "--extended-regexp"}) or proc.name == "egrep"
    ignore = bool(flags & {"-i", "--ignore-case"})
    parts = []
    for p in patterns:
        expr = re.escape(p) if fixed else bre_to_python(p, extended)
        if flags & {"-w", "--word-regexp"}:
            expr = rf"(?<!\w)(?:{expr})(?!\w)"
        if flags & {"-x", "--line-regexp"}:
            expr = rf"^(?:{expr})$"
        parts.append(f"(?:{expr})")
    try:
        regex = re.compile("|".join(parts).encode(errors="surrogateescape"),
                           re.IGNORECASE if ignore else 0)
    except re.error as exc:
        await proc.err(f"Invalid regular expression: {exc}")
        return 2
    invert = bool(flags & {"-v", "--invert-match"})
    count_only = bool(flags & {"-c", "--count"})
    list_files = bool(flags & {"-l", "--files-with-matches"})
    list_missing = bool(flags & {"-L", "--files-without-match"})
    quiet = bool(flags & {"-q", "--quiet", "--silent"})
    numbers = bool(flags & {"-n", "--line-number"})
    only = bool(flags & {"-o", "--only-matching"})
    silent_errors = bool(flags & {"-s", "--no-messages"})
    max_count = next((int(v) for o, v in opts if o in ("-m", "--max-count")), None)
    recursive = bool(flags & {"-r", "-R", "--recursive"})
    files = args or (["."] if recursive else ["-"])
    targets: list[str] = []
    status_error = False
    for path in files:
        if recursive and path != "-":
            try:
                loc = proc.fs.walk(path)
            except FsError as exc:
                if not silent_errors:
                    await proc.err(f"{path}: {exc.strerror}")
                status_error = True
                continue
            if isinstance(loc.node, Dir):
                for item, _ in proc.fs.walk_tree(loc):
                    if item.node.kind == "f":
                        rel = item.path[len(loc.path):].lstrip("/")
                        targets.append(path.rstrip("/") + "/" + rel if rel else path)
                continue
        targets.append(path)
    show_names = (len(targets) > 1 or recursive) and not flags & {"-h", "--no-filename"} \
        or bool(flags & {"-H", "--with-filename"})
    matched_any = False
    for path in targets:
        try:
            reader = proc.open_input(path)
        except FsError as exc:
            if not silent_errors:
                await proc.err(f"{path}: {exc.strerror}")
            status_error = True
            continue
        name = "(standard input)" if path == "-" else path
        hits, line_no = 0, 0
        while True:
            line = await reader.readline()
            if not line:
                break
            line_no += 1
            body = line[:-1] if line.endswith(b"\n") else line
            found = regex.search(body) is not None
            if found == invert:
                continue
            hits += 1
            matched_any = True
            if quiet:
                return 0
            if list_files or list_missing:
                break
            if not count_only:
                prefix = (name.encode() + b":" if show_names else b"") + \
                    (str(line_no).encode() + b":" if numbers else b"")
                if only and not invert:
                    for m in regex.finditer(body):
                        if m.group(0):
                            await proc.stdout.write(prefix + m.group(0) + b"\n")
                else:
                    await proc.stdout.write(prefix + body + b"\n")
            if max_count is not None and hits >= max_count:
                break
        if count_only:
            await proc.out((f"{name}:" if show_names else "") + f"{hits}\n")
        if list_files and hits:
            await proc.out(name + "\n")
        if list_missing and not hits:
            await proc.out(name + "\n")
    if status_error and not (quiet and matched_any):
        return 2
    return 0 if matched_any else 1


# -- sort / uniq / cut / tr / tee --------------------------------------------------
def _sort_key(line: bytes, opts: dict):
    fields = line
    if opts["key"]:
        start, end = opts["key"]
        sep = opts["sep"]
        parts = line.split(sep) if sep is not None else re.split(rb"(?<=\S)(?=\s)", line)
        chosen = parts[start - 1:end] if end else parts[start - 1:]
        fields = (sep or b"").join(chosen)
        if sep is None:
            fields = fields.lstrip() if opts["blank"] or opts["numeric"] else fields
    if opts["fold"]:
        fields = fields.lower()
    if opts["numeric"] or opts["human"]:
        m = re.match(rb"\s*(-?\d+(?:\.\d+)?)([KMGTPE]?)", fields)
        if not m:
            return (0.0, fields) if not opts["human"] else (0.0, fields)
        value = float(m.group(1))
        if opts["human"] and m.group(2):
            value *= 1024 ** (b"KMGTPE".index(m.group(2)) + 1)
        return (value, line)
    if opts["version"]:
        return [int(p) if p.isdigit() else p for p in re.split(rb"(\d+)", fields)], line
    return fields


async def sort(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "rnuk:t:fbho:sVz", ["reverse", "numeric-sort", "unique",
                                                       "key=", "field-separator=",
                                                       "ignore-case", "human-numeric-sort",
                                                       "output=", "stable", "version-sort"])
    settings = {"key": None, "sep": None, "fold": False, "numeric": False, "human": False,
                "blank": False, "version": False}
    reverse = unique = False
    output = None
    for o, v in opts:
        if o in ("-r", "--reverse"):
            reverse = True
        elif o in ("-n", "--numeric-sort"):
            settings["numeric"] = True
        elif o in ("-h", "--human-numeric-sort"):
            settings["human"] = True
        elif o in ("-V", "--version-sort"):
            settings["version"] = True
        elif o in ("-u", "--unique"):
            unique = True
        elif o in ("-f", "--ignore-case"):
            settings["fold"] = True
        elif o == "-b":
            settings["blank"] = True
        elif o in ("-t", "--field-separator"):
            settings["sep"] = v.encode()
        elif o in ("-o", "--output"):
            output = v
        elif o in ("-k", "--key"):
            m = re.fullmatch(r"(\d+)(?:\.\d+)?([a-zA-Z]*)(?:,(\d+)(?:\.\d+)?([a-zA-Z]*))?", v)
            if not m:
                raise UsageError(f"invalid field specification {quote(v)}", status=2)
            settings["key"] = (int(m.group(1)), int(m.group(3)) if m.group(3) else 0)
            mods = (m.group(2) or "") + (m.group(4) or "")
            settings["numeric"] |= "n" in mods
            settings["human"] |= "h" in mods
            reverse |= "r" in mods
            settings["fold"] |= "f" in mods
            settings["blank"] |= "b" in mods
    lines: list[bytes] = []
    for path in args or ["-"]:
        try:
            data = await proc.open_input(path).read()
        except FsError as exc:
            await proc.err(f"cannot read: {quotef(path)}: {exc.strerror}")
            return 2
        lines += [line for line in data.split(b"\n")]
        if lines and lines[-1] == b"":
            lines.pop()
    lines.sort(key=lambda line: (_sort_key(line, settings), line), reverse=reverse)
    if unique:
        seen, out = set(), []
        for line in lines:
            key = _sort_key(line, settings)
            key = key[0] if isinstance(key, tuple) else key
            if key not in seen:
                seen.add(key)
                out.append(line)
        lines = out
    data = b"".join(line + b"\n" for line in lines)
    if output:
        try:
            await proc.open_output(output).write(data)
        except FsError as exc:
            await proc.err(f"open failed: {output}: {exc.strerror}")
            return 2
        return 0
    await proc.stdout.write(data)
    return 0


async def uniq(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "cdui", ["count", "repeated", "unique", "ignore-case"])
    flags = {o for o, _ in opts}
    reader = proc.open_input(args[0]) if args else proc.stdin
    groups: list[list] = []
    while True:
        line = await reader.readline()
        if not line:
            break
        body = line.rstrip(b"\n")
        key = body.lower() if flags & {"-i", "--ignore-case"} else body
        if groups and groups[-1][0] == key:
            groups[-1][2] += 1
        else:
            groups.append([key, body, 1])
    out = []
    for _, body, count in groups:
        if flags & {"-d", "--repeated"} and count < 2:
            continue
        if flags & {"-u", "--unique"} and count > 1:
            continue
        out.append((f"{count:7d} ".encode() if flags & {"-c", "--count"} else b"") + body + b"\n")
    await proc.stdout.write(b"".join(out))
    return 0


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        if not part:
            raise ValueError(spec)
        if "-" in part:
            a, _, b = part.partition("-")
            out.append((int(a) if a else 1, int(b) if b else 1 << 30))
        else:
            out.append((int(part), int(part)))
    return out


async def cut(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "d:f:c:b:s", ["delimiter=", "fields=", "characters=",
                                                 "bytes=", "only-delimited",
                                                 "output-delimiter="])
    delim, fields, chars = b"\t", None, None
    only = False
    out_delim = None
    for o, v in opts:
        if o in ("-d", "--delimiter"):
            delim = v.encode() or b"\t"
        elif o in ("-f", "--fields"):
            fields = v
        elif o in ("-c", "--characters", "-b", "--bytes"):
            chars = v
        elif o in ("-s", "--only-delimited"):
            only = True
        elif o == "--output-delimiter":
            out_delim = v.encode()
    if fields is None and chars is None:
        raise UsageError("you must specify a list of bytes, characters, or fields")
    try:
        ranges = _ranges(fields or chars)
    except ValueError:
        raise UsageError("invalid field range", hint=True) from None
    for path in args or ["-"]:
        try:
            reader = proc.open_input(path)
        except FsError as exc:
            await proc.err(f"{quotef(path)}: {exc.strerror}")
            continue
        while True:
            line = await reader.readline()
            if not line:
                break
            body = line.rstrip(b"\n")
            if fields is not None:
                if delim not in body:
                    if not only:
                        await proc.stdout.write(body + b"\n")
                    continue
                parts = body.split(delim)
                chosen = [p for i, p in enumerate(parts, 1) if any(a <= i <= b for a, b in ranges)]
                await proc.stdout.write((out_delim or delim).join(chosen) + b"\n")
            else:
                chosen = bytes(c for i, c in enumerate(body, 1)
                               if any(a <= i <= b for a, b in ranges))
                await proc.stdout.write(chosen + b"\n")
    return 0


def _tr_set(spec: str) -> list[int]:
    text, _ = unescape(spec)
    out: list[int] = []
    i = 0
    while i < len(text):
        m = re.match(r"\[:(\w+):\]", text[i:])
        if m:
            cls = m.group(1)
            chars = {"lower": "abcdefghijklmnopqrstuvwxyz", "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                     "digit": "0123456789", "space": " \t\n\r\f\v", "blank": " \t",
                     "alpha": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                     "alnum": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                     "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}.get(cls, "")
            out += [ord(c) for c in chars]
            i += m.end()
            continue
        if i + 2 < len(text) and text[i + 1] == "-":
            out += list(range(ord(text[i]), ord(text[i + 2]) + 1))
            i += 3
            continue
        out.append(ord(text[i]) & 0xFF if ord(text[i]) < 0xDC00 else ord(text[i]) - 0xDC00)
        i += 1
    return out


async def tr(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "dscC", ["delete", "squeeze-repeats", "complement"])
    flags = {o for o, _ in opts}
    if not args:
        raise UsageError("missing operand")
    set1 = _tr_set(args[0])
    if flags & {"-c", "-C", "--complement"}:
        set1 = [b for b in range(256) if b not in set(set1)]
    delete = bool(flags & {"-d", "--delete"})
    squeeze = bool(flags & {"-s", "--squeeze-repeats"})
    table = bytes(range(256))
    squeeze_set = set(set1)
    if not delete and len(args) > 1:
        set2 = _tr_set(args[1])
        if set2:
            mapping = bytearray(range(256))
            for i, b in enumerate(set1):
                mapping[b] = set2[min(i, len(set2) - 1)]
            table = bytes(mapping)
            squeeze_set = set(set2)
    elif not delete and not squeeze:
        raise UsageError(f"missing operand after {quote(args[0])}")
    remove = bytes(set1) if delete else None
    last = -1
    while True:
        chunk = await proc.stdin.read(CHUNK)
        if not chunk:
            break
        data = chunk.translate(table, remove) if remove else chunk.translate(table)
        if squeeze:
            out = bytearray()
            for b in data:
                if b == last and b in squeeze_set:
                    continue
                out.append(b)
                last = b
            data = bytes(out)
        await proc.stdout.write(data)
    return 0


async def tee(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "ai", ["append", "ignore-interrupts"])
    append = any(o in ("-a", "--append") for o, _ in opts)
    outputs, status = [], 0
    for path in args:
        try:
            outputs.append((path, proc.open_output(path, append)))
        except FsError as exc:
            await proc.err(f"{quotef(path)}: {exc.strerror}")
            status = 1
    while True:
        chunk = await proc.stdin.read(CHUNK)
        if not chunk:
            break
        await proc.stdout.write(chunk)
        for path, out in list(outputs):
            try:
                await out.write(chunk)
            except FsError as exc:
                await proc.err(f"{quotef(path)}: {exc.strerror}")
                outputs.remove((path, out))
                status = 1
    return status


# -- sed (a practical subset) -----------------------------------------------------
def _sed_split(script: str, i: int, delim: str) -> tuple[str, int]:
    out = []
    while i < len(script):
        ch = script[i]
        if ch == "\\" and i + 1 < len(script):
            if script[i + 1] == delim:
                out.append(delim)
            else:
                out.append(script[i:i + 2])
            i += 2
            continue
        if ch == delim:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise ValueError("unterminated `s' command")


def _sed_parse(script: str, extended: bool) -> list[dict]:
    cmds, i = [], 0
    while i < len(script):
        while i < len(script) and script[i] in " \t\n;":
            i += 1
        if i >= len(script):
            break
        addrs = []
        for _ in range(2):
            if i < len(script) and script[i].isdigit():
                m = re.match(r"\d+", script[i:])
                addrs.append(("line", int(m.group(0))))
                i += m.end()
            elif i < len(script) and script[i] == "$":
                addrs.append(("last", 0))
                i += 1
            elif i < len(script) and script[i] == "/":
                pattern, i = _sed_split(script, i + 1, "/")
                addrs.append(("re", re.compile(bre_to_python(pattern, extended))))
            else:
                break
            if i < len(script) and script[i] == "," and len(addrs) == 1:
                i += 1
                continue
            break
        negate = False
        if i < len(script) and script[i] == "!":
            negate = True
            i += 1
        if i >= len(script):
            raise ValueError("missing command")
        op = script[i]
        i += 1
        cmd = {"op": op, "addrs": addrs, "negate": negate, "active": False}
        if op == "s":
            delim = script[i]
            pattern, i = _sed_split(script, i + 1, delim)
            repl, i = _sed_split(script, i, delim)
            m = re.match(r"[gpiI0-9]*", script[i:])
            sflags = m.group(0)
            i += m.end()
            cmd["re"] = re.compile(bre_to_python(pattern, extended),
                                   re.IGNORECASE if "i" in sflags.lower() else 0)
            cmd["repl"] = re.sub(r"\\(\d)", r"\\g<\1>", repl.replace("&", r"\g<0>")
                                 .replace("\\&", "&"))
            cmd["count"] = 0 if "g" in sflags else int(re.sub(r"\D", "", sflags) or 1)
            cmd["print"] = "p" in sflags
        elif op in "aic":
            text = script[i:].lstrip()
            if text.startswith("\\"):
                text = text[1:].lstrip("\n")
            end = text.find("\n")
            cmd["text"] = text if end < 0 else text[:end]
            i = len(script) if end < 0 else script.index(text[:end], i) + end
        elif op in "dpqQ=":
            pass
        elif op == "y":
            delim = script[i]
            src, i = _sed_split(script, i + 1, delim)
            dst, i = _sed_split(script, i, delim)
            cmd["table"] = str.maketrans(src, dst)
        else:
            raise ValueError(f"unknown command: `{op}'")
        cmds.append(cmd)
    return cmds


def _sed_match(cmd: dict, line_no: int, last: bool, text: str) -> bool:
    addrs = cmd["addrs"]

    def hit(addr) -> bool:
        kind, value = addr
        if kind == "line":
            return line_no == value
        if kind == "last":
            return last
        return value.search(text) is not None

    if not addrs:
        result = True
    elif len(addrs) == 1:
        result = hit(addrs[0])
    elif cmd["active"]:
        if hit(addrs[1]) or (addrs[1][0] == "line" and line_no >= addrs[1][1]):
            cmd["active"] = False
        result = True
    elif hit(addrs[0]):
        cmd["active"] = not (addrs[1][0] == "line" and addrs[1][1] <= line_no)
        result = True
    else:
        result = False
    return result != cmd["negate"]


async def sed(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "ne:f:i::Ers", ["quiet", "silent", "expression=", "file=",
                                                   "in-place==", "regexp-extended"])
    flags = {o for o, _ in opts}
    quiet = bool(flags & {"-n", "--quiet", "--silent"})
    extended = bool(flags & {"-E", "-r", "--regexp-extended"})
    in_place = next((v for o, v in opts if o in ("-i", "--in-place")), None)
    in_place_on = any(o in ("-i", "--in-place") for o, _ in opts)
    scripts = [v for o, v in opts if o in ("-e", "--expression")]
    for o, v in opts:
        if o in ("-f", "--file"):
            scripts.append(proc.fs.read_bytes(v).decode(errors="replace"))
    if not scripts:
        if not args:
            raise UsageError("no script specified", hint=False)
        scripts, args = [args[0]], args[1:]
    try:
        cmds = _sed_parse("\n".join(scripts), extended)
    except (ValueError, re.error, IndexError) as exc:
        await proc.err(f"-e expression #1, char 0: {exc}")
        return 1
    files = args or ["-"]
    status = 0
    for path in files if in_place_on else [None]:
        sources = [path] if in_place_on else files
        out: list[str] = []
        lines: list[str] = []
        for src in sources:
            try:
                data = await proc.open_input(src).read()
            except FsError as exc:
                await proc.err(f"can't read {src}: {exc.strerror}")
                status = 2
                continue
            text = data.decode(errors="surrogateescape")
            lines += text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
        quit_now = False
        for n, line in enumerate(lines, 1):
            last = n == len(lines)
            deleted = False
            appended = []
            for cmd in cmds:
                if not _sed_match(cmd, n, last, line):
                    continue
                op = cmd["op"]
                if op == "s":
                    new, count = cmd["re"].subn(cmd["repl"], line, count=cmd["count"]
                                                if cmd["count"] <= 1 else 0)
                    if cmd["count"] > 1:
                        matches = list(cmd["re"].finditer(line))
                        if len(matches) >= cmd["count"]:
                            m = matches[cmd["count"] - 1]
                            new = line[:m.start()] + m.expand(cmd["repl"]) + line[m.end():]
                            count = 1
                        else:
                            new, count = line, 0
                    line = new
                    if count and cmd["print"]:
                        out.append(line)
                elif op == "d":
                    deleted = True
                    break
                elif op == "p":
                    out.append(line)
                elif op == "=":
                    out.append(str(n))
                elif op == "y":
                    line = line.translate(cmd["table"])
                elif op == "a":
                    appended.append(cmd["text"])
                elif op == "i":
                    out.append(cmd["text"])
                elif op == "c":
                    out.append(cmd["text"])
                    deleted = True
                    break
                elif op in "qQ":
                    quit_now = True
                    if op == "Q":
                        deleted = True
                    break
            if not deleted and not quiet:
                out.append(line)
            out.extend(appended)
            if quit_now:
                break
        result = "".join(line + "\n" for line in out).encode(errors="surrogateescape")
        if in_place_on and path is not None:
            try:
                if in_place:
                    await proc.open_output(path + in_place).write(
                        await proc.open_input(path).read())
                await proc.open_output(path).write(result)
            except FsError as exc:
                await proc.err(f"couldn't edit {path}: {exc.strerror}")
                status = 4
        else:
            await proc.stdout.write(result)
    return status


# -- checksums, base64, cmp --------------------------------------------------------
def _digest(name: str):
    return getattr(hashlib, name.replace("sum", ""))


async def checksum(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "bctwz", ["binary", "check", "text", "quiet", "status",
                                             "strict", "tag"])
    flags = {o for o, _ in opts}
    algo = _digest(proc.name)
    status = 0
    if flags & {"-c", "--check"}:
        failed = 0
        for path in args or ["-"]:
            text = (await proc.open_input(path).read()).decode(errors="replace")
            for line in text.splitlines():
                m = re.match(r"([0-9a-fA-F]+) [ *](.*)", line)
                if not m:
                    continue
                expected, name = m.groups()
                try:
                    data = await proc.open_input(name).read()
                    ok = algo(data).hexdigest() == expected.lower()
                except FsError as exc:
                    await proc.err(f"{name}: {exc.strerror}")
                    ok = False
                if not ok:
                    failed += 1
                if "--status" not in flags and not (ok and "--quiet" in flags):
                    await proc.out(f"{name}: {'OK' if ok else 'FAILED'}\n")
        if failed and "--status" not in flags:
            await proc.err(f"WARNING: {failed} computed checksum"
                           f"{'s' if failed > 1 else ''} did NOT match")
        return 1 if failed else 0
    for path in args or ["-"]:
        try:
            reader = proc.open_input(path)
            digest = algo()
            while True:
                chunk = await reader.read(1 << 20)
                if not chunk:
                    break
                digest.update(chunk)
        except FsError as exc:
            await proc.err(f"{path}: {exc.strerror}")
            status = 1
            continue
        marker = "*" if flags & {"-b", "--binary"} else " "
        await proc.out(f"{digest.hexdigest()} {marker}{path}\n")
    return status


async def base64(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "diw:", ["decode", "ignore-garbage", "wrap="])
    flags = {o for o, _ in opts}
    wrap = next((int(v) for o, v in opts if o in ("-w", "--wrap")), 76)
    try:
        data = await proc.open_input(args[0] if args else "-").read()
    except FsError as exc:
        await proc.err(f"{args[0]}: {exc.strerror}")
        return 1
    if flags & {"-d", "--decode"}:
        try:
            cleaned = re.sub(rb"[^A-Za-z0-9+/=]", b"", data) if flags & {"-i"} else \
                re.sub(rb"\s", b"", data)
            await proc.stdout.write(b64.b64decode(cleaned, validate=True))
        except (ValueError, TypeError):
            await proc.err("invalid input")
            return 1
        return 0
    encoded = b64.b64encode(data)
    if wrap:
        encoded = b"\n".join(encoded[i:i + wrap] for i in range(0, len(encoded), wrap))
    await proc.stdout.write(encoded + (b"\n" if encoded or not wrap else b""))
    return 0


async def cmp(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "sl", ["silent", "quiet", "verbose"])
    silent = any(o in ("-s", "--silent", "--quiet") for o, _ in opts)
    if len(args) < 2:
        raise UsageError(f"missing operand after {quote(args[0])}" if args
                         else "missing operand", status=2)
    try:
        a = await proc.open_input(args[0]).read()
        b = await proc.open_input(args[1]).read()
    except FsError as exc:
        await proc.err(f"{exc.path}: {exc.strerror}")
        return 2
    if a == b:
        return 0
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    if not silent:
        if n == min(len(a), len(b)) and len(a) != len(b):
            short = args[0] if len(a) < len(b) else args[1]
            await proc.err(f"EOF on {short} after byte {n}")
        else:
            line = a[:n].count(b"\n") + 1
            await proc.out(f"{args[0]} {args[1]} differ: byte {n + 1}, line {line}\n")
    return 1


# -- xargs ---------------------------------------------------------------------
def _xargs_items(data: str) -> list[str]:
    items, buf, quote_ch, i, has = [], [], None, 0, False
    while i < len(data):
        ch = data[i]
        if quote_ch:
            if ch == quote_ch:
                quote_ch = None
            else:
                buf.append(ch)
        elif ch in "'\"":
            quote_ch, has = ch, True
        elif ch == "\\" and i + 1 < len(data):
            buf.append(data[i + 1])
            has = True
            i += 1
        elif ch.isspace():
            if buf or has:
                items.append("".join(buf))
                buf, has = [], False
        else:
            buf.append(ch)
        i += 1
    if buf or has:
        items.append("".join(buf))
    return items


async def xargs(proc: Proc, argv: list[str]) -> int:
    opts, args = parse(proc, argv, "0n:I:d:rtL:P:s:", ["null", "max-args=", "replace=",
                                                       "delimiter=", "no-run-if-empty",
                                                       "verbose"], permute=False)
    flags = {o for o, _ in opts}
    data = (await proc.stdin.read()).decode(errors="surrogateescape")
    if flags & {"-0", "--null"}:
        items = [x for x in data.split("\0") if x]
    elif any(o in ("-d", "--delimiter") for o, _ in opts):
        delim = next(v for o, v in opts if o in ("-d", "--delimiter"))
        delim = {"\\n": "\n", "\\t": "\t", "\\0": "\0"}.get(delim, delim)
        items = [x for x in data.split(delim) if x] if delim != "\n" else \
            [x for x in data.split("\n") if x]
    else:
        items = _xargs_items(data)
    replace = next((v for o, v in opts if o in ("-I", "--replace")), None)
    per = next((int(v) for o, v in opts if o in ("-n", "--max-args", "-L")), None)
    command = args or ["echo"]
    if replace is not None:
        batches = [[a.replace(replace, item) for a in command] for item in
                   (data.split("\n") if not flags & {"-0"} else items) if item.strip()]
        if flags & {"-0"}:
            batches = [[a.replace(replace, item) for a in command] for item in items]
    else:
        if not items and flags & {"-r", "--no-run-if-empty"}:
            return 0
        step = per or max(1, len(items))
        batches = [command + items[i:i + step] for i in range(0, len(items), step)] or \
            [list(command)]
    status = 0
    for batch in batches:
        if flags & {"-t", "--verbose"}:
            await proc.err(" ".join(batch).removeprefix(f"{proc.name}: "))
        result = await run_program(proc, batch)
        if isinstance(result, tuple):
            code, text = result
            await proc.err(f"{batch[0]}: {text}")
            return 127 if code == errno.ENOENT else 126
        if result == 255:
            await proc.err(f"{batch[0]}: exited with status 255; aborting")
            return 124
        if result:
            status = 123
    return status


# -- dd --------------------------------------------------------------------------
async def dd(proc: Proc, argv: list[str]) -> int:
    settings = {"if": "-", "of": None, "bs": "512", "ibs": None, "obs": None, "count": None,
                "skip": "0", "seek": "0", "status": "", "conv": "", "iflag": "", "oflag": ""}
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in settings:
            await proc.err(f"unrecognized operand {quote(arg)}")
            return 1
        settings[key] = value
    try:
        bs = parse_size(settings["ibs"] or settings["bs"])
        count = parse_size(settings["count"]) if settings["count"] is not None else None
        skip, seek = parse_size(settings["skip"]), parse_size(settings["seek"])
    except ValueError as exc:
        await proc.err(f"invalid number: {quote(str(exc))}")
        return 1
    started = time.monotonic()
    try:
        reader = proc.open_input(settings["if"])
    except FsError as exc:
        await proc.err(f"failed to open {quote(settings['if'])}: {exc.strerror}")
        return 1
    out_path = settings["of"]
    try:
        if out_path is None:
            writer = proc.stdout
        else:
            writer = proc.open_output(out_path, append="append" in settings["oflag"])
            notrunc = "notrunc" in settings["conv"]
            handle = getattr(writer, "handle", None)
            if handle is not None and not notrunc:
                handle.truncate(seek * bs)
    except FsError as exc:
        await proc.err(f"failed to open {quote(out_path)}: {exc.strerror}")
        return 1
    if skip:
        await reader.readexactly(skip * bs)
    full = partial = out_full = out_partial = total = 0
    status = 0
    while count is None or full + partial < count:
        block = await reader.readexactly(bs)
        if not block:
            break
        if len(block) == bs:
            full += 1
        else:
            partial += 1
        handle = getattr(writer, "handle", None)
        before = handle.node.size() if handle is not None else 0
        try:
            await writer.write(block)
        except FsError as exc:
            if exc.errno == errno.EPIPE:
                raise
            await proc.err(f"error writing {quote(out_path or 'standard output')}: "
                           f"{exc.strerror}")
            written = handle.node.size() - before if handle is not None else 0
            if written:
                out_partial += 1
                total += written
            status = 1
            break
        total += len(block)
        if len(block) == bs:
            out_full += 1
        else:
            out_partial += 1
        if len(block) < bs:
            break
    if settings["status"] != "none":
        elapsed = max(time.monotonic() - started, 1e-6)
        report = f"{full}+{partial} records in\n{out_full}+{out_partial} records out\n"
        if settings["status"] != "noxfer":
            report += (f"{total} bytes{_dd_units(total)} copied, {elapsed:.6g} s, "
                       f"{_dd_rate(total / elapsed)}\n")
        try:
            await proc.stderr.write(report.encode())
        except FsError:
            pass
    return status


def _dd_units(n: int) -> str:
    if n < 1000:
        return ""
    si = next((f"{n / 1000 ** k:.1f} {u}B" for k, u in ((4, "T"), (3, "G"), (2, "M"), (1, "k"))
               if n >= 1000 ** k), "")
    iec = next((f"{n / 1024 ** k:.1f} {u}iB" for k, u in ((4, "T"), (3, "G"), (2, "M"),
                                                          (1, "K")) if n >= 1024 ** k),
               f"{n} B")
    return f" ({si}, {iec})"


def _dd_rate(rate: float) -> str:
    for k, unit in ((3, "GB/s"), (2, "MB/s"), (1, "kB/s")):
        if rate >= 1000 ** k:
            return f"{rate / 1000 ** k:.1f} {unit}"
    return f"{rate:.0f} B/s"


COMMANDS = {"head": head, "tail": tail, "wc": wc, "grep": grep, "egrep": grep,
            "fgrep": grep, "sort": sort, "uniq": uniq, "cut": cut, "tr": tr, "tee": tee,
            "sed": sed, "md5sum": checksum, "sha1sum": checksum, "sha256sum": checksum,
            "sha512sum": checksum, "base64": base64, "cmp": cmp, "xargs": xargs, "dd": dd}
