"""Word expansion, in POSIX order: tilde, parameters, command substitution,
arithmetic, field splitting (unquoted results only), pathname expansion
(unquoted ``*?[`` only, no match keeps the word), quote removal.

``"$@"`` expands to one field per positional parameter.  Parameter forms:
``$x ${x} ${#x} ${x:-w} ${x-w} ${x:=w} ${x:+w} ${x:?m} ${x%p} ${x%%p} ${x#p}
${x##p} ${x/p/r} ${x//p/r}`` and the specials ``$? $$ $# $@ $* $! $- $0..$9``.
"""

from __future__ import annotations

import fnmatch
import re

from ...fs.errors import FsError
from . import arith
from .parser import Lexer, _skip_command

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IFS_WS = re.compile(r"[ \t\n]+")
GLOB_CHARS = set("*?[")


class ExpansionError(Exception):
    """``sh: x: parameter not set`` and friends (the command does not run)."""


class _Fields:
    def __init__(self):
        self.runs: list[list[tuple[str, bool]]] = [[]]
        self.exists: list[bool] = [False]

    def add(self, text: str, quoted: bool) -> None:
        if text or quoted:
            self.runs[-1].append((text, quoted))
            self.exists[-1] = True

    def new(self) -> None:
        if self.exists[-1]:
            self.runs.append([])
            self.exists.append(False)

    def add_split(self, text: str) -> None:
        if not text:
            return
        parts = _IFS_WS.split(text)
        for idx, part in enumerate(parts):
            if idx:
                self.new()
            if part:
                self.add(part, False)


def _escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in GLOB_CHARS else c for c in text)


def pattern_of(runs: list[tuple[str, bool]]) -> str:
    """An fnmatch pattern in which quoted characters are literal."""
    return "".join(_escape_glob(t) if q else t for t, q in runs)


def _strip(value: str, pattern: str, op: str) -> str:
    if op in ("#", "##"):
        rng = range(0, len(value) + 1) if op == "#" else range(len(value), -1, -1)
        for n in rng:
            if fnmatch.fnmatchcase(value[:n], pattern):
                return value[n:]
        return value
    rng = range(len(value), -1, -1) if op == "%" else range(0, len(value) + 1)
    for n in rng:
        if fnmatch.fnmatchcase(value[n:], pattern):
            return value[:n]
    return value


def _replace(value: str, pattern: str, repl: str, every: bool) -> str:
    out, i = [], 0
    while i <= len(value):
        for j in range(len(value), i - 1, -1):
            if j > i and fnmatch.fnmatchcase(value[i:j], pattern):
                out.append(repl)
                i = j
                if not every:
                    out.append(value[i:])
                    return "".join(out)
                break
        else:
            if i < len(value):
                out.append(value[i])
            i += 1
    return "".join(out)


class Expander:
    """Expands raw words for one shell."""

    def __init__(self, shell):
        self.sh = shell

    # -- parameters ----------------------------------------------------------
    def _param(self, name: str) -> str | None:
        sh = self.sh
        if name == "?":
            return str(sh.last_status)
        if name == "$":
            return str(sh.pid)
        if name == "#":
            return str(len(sh.positional))
        if name == "!":
            return str(sh.last_bg) if sh.last_bg else ""
        if name == "-":
            return sh.flags()
        if name == "0":
            return sh.arg0
        if name.isdigit():
            n = int(name)
            return sh.positional[n - 1] if n <= len(sh.positional) else None
        if name in ("@", "*"):
            return " ".join(sh.positional)
        return sh.get_var(name)

    def _unset(self, name: str) -> str:
        if self.sh.nounset and name not in ("@", "*") and self._param(name) is None:
            raise ExpansionError(f"{name}: parameter not set")
        return self._param(name) or ""

    async def _braced(self, body: str, quoted: bool) -> str:
        if body.startswith("#") and len(body) > 1 and body != "#":
            name = body[1:]
            return str(len(self._unset(name)))
        m = _NAME.match(body) or re.match(r"[0-9]+|[?$#@*!\-]", body)
        if not m:
            raise ExpansionError("syntax error: bad substitution")
        name, rest = m.group(0), body[m.end():]
        value = self._param(name)
        if not rest:
            if value is None and self.sh.nounset and name not in ("@", "*"):
                raise ExpansionError(f"{name}: parameter not set")
            return value or ""
        for op in (":-", ":=", ":+", ":?", "-", "=", "+", "?"):
            if rest.startswith(op):
                word = rest[len(op):]
                unset = value is None or (op.startswith(":") and value == "")
                kind = op[-1]
                if kind == "-":
                    return await self.one(word) if unset else value
                if kind == "=":
                    if unset:
                        value = await self.one(word)
                        self.sh.set_var(name, value)
                    return value
                if kind == "+":
                    return "" if unset else await self.one(word)
                if unset:
                    message = await self.one(word) if word else "parameter not set"
                    raise ExpansionError(f"{name}: {message}")
                return value
        value = value or ""
        for op in ("##", "#", "%%", "%"):
            if rest.startswith(op):
                pattern = await self.pattern(rest[len(op):])
                return _strip(value, pattern, op)
        if rest.startswith("/"):
            every = rest.startswith("//")
            spec = rest[2:] if every else rest[1:]
            pat, _, repl = spec.partition("/")
            return _replace(value, await self.pattern(pat), await self.one(repl), every)
        raise ExpansionError("syntax error: bad substitution")

    # -- scanning ------------------------------------------------------------
    async def _dollar(self, raw: str, i: int, quoted: bool, fields: _Fields) -> int:
        """Expand the ``$`` construct at ``raw[i]``; returns the index after it."""
        sh = self.sh
        if raw.startswith("$((", i):
            end = raw.find("))", i)
            depth, j = 0, i + 3
            while j < len(raw):
                if raw.startswith("))", j) and depth == 0:
                    end = j
                    break
                if raw[j] == "(":
                    depth += 1
                elif raw[j] == ")":
                    depth -= 1
                j += 1
            inner = await self.one('"' + raw[i + 3:end].replace('"', '\\"') + '"')
            try:
                value = str(arith.evaluate(inner, sh.get_var, sh.set_var))
            except arith.ArithError as exc:
                raise ExpansionError("arithmetic syntax error" if "syntax" in str(exc)
                                     else str(exc)) from None
            self._emit(fields, value, quoted)
            return end + 2
        if raw.startswith("$(", i):
            end = _skip_command(raw, i + 2, Lexer(raw))
            value = await sh.substitute(raw[i + 2:end - 1])
            self._emit(fields, value, quoted)
            return end
        if raw.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(raw):
                if raw[j] == "\\":
                    j += 2
                    continue
                if raw.startswith("${", j):
                    depth += 1
                    j += 2
                    continue
                if raw[j] == "}":
                    depth -= 1
                    if not depth:
                        break
                j += 1
            body = raw[i + 2:j]
            if body in ("@", "*") or re.fullmatch(r"[@*]", body):
                self._positional(fields, body, quoted)
            else:
                self._emit(fields, await self._braced(body, quoted), quoted)
            return j + 1
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt in ("@", "*"):
            self._positional(fields, nxt, quoted)
            return i + 2
        if nxt and (nxt.isdigit() or nxt in "?$#!-"):
            self._emit(fields, self._unset(nxt), quoted)
            return i + 2
        m = _NAME.match(raw, i + 1)
        if m:
            self._emit(fields, self._unset(m.group(0)), quoted)
            return m.end()
        fields.add("$", quoted)
        return i + 1

    def _emit(self, fields: _Fields, value: str, quoted: bool) -> None:
        if quoted:
            fields.add(value, True)
        else:
            fields.add_split(value)

    def _positional(self, fields: _Fields, which: str, quoted: bool) -> None:
        args = self.sh.positional
        if quoted and which == "@":
            for idx, arg in enumerate(args):
                if idx:
                    fields.new()
                fields.add(arg, True)
            return
        self._emit(fields, " ".join(args), quoted)

    async def _backtick(self, raw: str, i: int, quoted: bool, fields: _Fields) -> int:
        j, src = i + 1, []
        while j < len(raw) and raw[j] != "`":
            if raw[j] == "\\" and j + 1 < len(raw) and raw[j + 1] in "\\`$":
                src.append(raw[j + 1])
                j += 2
                continue
            src.append(raw[j])
            j += 1
        self._emit(fields, await self.sh.substitute("".join(src)), quoted)
        return j + 1

    async def fields(self, raw: str) -> _Fields:
        """Expand one raw word into fields of (text, quoted) runs."""
        fields = _Fields()
        i, n = 0, len(raw)
        if raw.startswith("~") and (n == 1 or raw[1] == "/"):
            fields.add(self.sh.get_var("HOME") or "/", True)
            i = 1
        while i < n:
            ch = raw[i]
            if ch == "'":
                end = raw.find("'", i + 1)
                end = n if end < 0 else end
                fields.add(raw[i + 1:end], True)
                i = end + 1
            elif ch == '"':
                i = await self._double(raw, i + 1, fields)
            elif ch == "\\":
                if i + 1 < n:
                    if raw[i + 1] != "\n":
                        fields.add(raw[i + 1], True)
                    i += 2
                else:
                    fields.add("\\", True)
                    i += 1
            elif ch == "$":
                i = await self._dollar(raw, i, False, fields)
            elif ch == "`":
                i = await self._backtick(raw, i, False, fields)
            else:
                j = i
                while j < n and raw[j] not in "'\"\\$`":
                    j += 1
                fields.add(raw[i:j], False)
                i = j
        return fields

    async def heredoc(self, text: str) -> str:
        """Expand a here-document body (parameters, commands, arithmetic; quotes literal)."""
        fields = _Fields()
        await self._double(text, 0, fields, heredoc=True)
        return "".join(t for runs in fields.runs for t, _ in runs)

    async def _double(self, raw: str, i: int, fields: _Fields, heredoc: bool = False) -> int:
        n = len(raw)
        start = i
        added = sum(len(r) for r in fields.runs)
        buf: list[str] = []

        def flush():
            if buf:
                fields.add("".join(buf), True)
                buf.clear()

        escapable = '$`\\' if heredoc else '$`"\\'
        while i < n and (heredoc or raw[i] != '"'):
            ch = raw[i]
            if ch == "\\" and i + 1 < n:
                if raw[i + 1] in escapable:
                    buf.append(raw[i + 1])
                elif raw[i + 1] != "\n":
                    buf.append("\\" + raw[i + 1])
                i += 2
            elif ch == "$":
                flush()
                i = await self._dollar(raw, i, True, fields)
            elif ch == "`":
                flush()
                i = await self._backtick(raw, i, True, fields)
            else:
                buf.append(ch)
                i += 1
        flush()
        only_args = raw[start:i] in ("$@", "${@}")
        if not only_args and sum(len(r) for r in fields.runs) == added:
            fields.add("", True)
        return i + 1

    # -- public ----------------------------------------------------------------
    async def words(self, raws: list[str], glob: bool = True) -> list[str]:
        """Expand a command's words into argv."""
        out: list[str] = []
        for raw in raws:
            fields = await self.fields(raw)
            for runs, exists in zip(fields.runs, fields.exists):
                if not exists:
                    continue
                text = "".join(t for t, _ in runs)
                if glob and not self.sh.noglob and any(
                        not q and any(c in GLOB_CHARS for c in t) for t, q in runs):
                    matches = self.glob(pattern_of(runs))
                    if matches:
                        out.extend(matches)
                        continue
                out.append(text)
        return out

    async def one(self, raw: str) -> str:
        """Expand without splitting or globbing (assignments, redirections, case words)."""
        fields = await self.fields(raw)
        return " ".join("".join(t for t, _ in runs) for runs, e in
                        zip(fields.runs, fields.exists) if e)

    async def pattern(self, raw: str) -> str:
        """Expand a pattern word (``case``, ``${x#...}``): quoted characters stay literal."""
        fields = await self.fields(raw)
        return "".join(pattern_of(runs) for runs in fields.runs)

    def glob(self, pattern: str) -> list[str]:
        """Pathname expansion against the process's filesystem view."""
        fs = self.sh.fs
        absolute = pattern.startswith("/")
        parts = [p for p in pattern.split("/") if p]
        results = ["/" if absolute else ""]
        for idx, part in enumerate(parts):
            last = idx == len(parts) - 1
            nxt = []
            magic = any(c in GLOB_CHARS for c in part)
            for base in results:
                if not magic:
                    literal = re.sub(r"\[(.)\]", r"\1", part)
                    candidate = base + literal if base in ("", "/") or base.endswith("/") \
                        else base + "/" + literal
                    if last:
                        if fs.exists(candidate, follow=False):
                            nxt.append(candidate)
                    elif fs.exists(candidate):
                        nxt.append(candidate)
                    continue
                try:
                    names = fs.listdir(base or ".")
                except FsError:
                    continue
                for name in sorted(names):
                    if name.startswith(".") and not part.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(name, part):
                        candidate = (base if base in ("", "/") or base.endswith("/")
                                     else base + "/") + name
                        if last or fs.exists(candidate):
                            nxt.append(candidate)
            results = nxt
            if not results:
                return []
        if pattern.endswith("/"):
            results = [r + "/" for r in results if fs.exists(r + "/")]
        return sorted(results)
