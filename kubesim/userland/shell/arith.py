"""``$(( ... ))``: shell integer arithmetic (C operators, variables, assignment)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|"
                    r"(<<=|>>=|\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%<>&|^!~?:=()]))")
_BINARY = {
    "||": (1, lambda a, b: int(bool(a) or bool(b))),
    "&&": (2, lambda a, b: int(bool(a) and bool(b))),
    "|": (3, lambda a, b: a | b), "^": (4, lambda a, b: a ^ b), "&": (5, lambda a, b: a & b),
    "==": (6, lambda a, b: int(a == b)), "!=": (6, lambda a, b: int(a != b)),
    "<": (7, lambda a, b: int(a < b)), "<=": (7, lambda a, b: int(a <= b)),
    ">": (7, lambda a, b: int(a > b)), ">=": (7, lambda a, b: int(a >= b)),
    "<<": (8, lambda a, b: a << b), ">>": (8, lambda a, b: a >> b),
    "+": (9, lambda a, b: a + b), "-": (9, lambda a, b: a - b),
    "*": (10, lambda a, b: a * b), "/": (10, None), "%": (10, None),
    "**": (11, lambda a, b: a ** b),
}


class ArithError(Exception):
    """Bad arithmetic expression (``sh: arithmetic syntax error``)."""


def _div(a: int, b: int, op: str) -> int:
    if b == 0:
        raise ArithError("divide by zero")
    q = abs(a) // abs(b)
    q = q if (a >= 0) == (b >= 0) else -q
    return q if op == "/" else a - b * q


def evaluate(text: str, get, set_) -> int:
    """Evaluate ``text``; ``get(name) -> str|None`` and ``set_(name, value)`` access variables."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ArithError("arithmetic syntax error")
        num, name, op = m.groups()
        tokens.append(("num", num) if num else ("name", name) if name else ("op", op))
        pos = m.end()
    tokens.append(("end", ""))
    i = 0

    def value_of(name: str) -> int:
        raw = (get(name) or "0").strip() or "0"
        try:
            return int(raw, 0) if raw.lower().startswith("0x") else int(raw)
        except ValueError:
            return evaluate(raw, get, set_) if raw != name else 0

    def primary() -> int:
        nonlocal i
        kind, tok = tokens[i]
        if kind == "num":
            i += 1
            return int(tok, 0) if tok.lower().startswith("0x") else int(tok, 8) \
                if len(tok) > 1 and tok.startswith("0") else int(tok)
        if kind == "name":
            i += 1
            nxt = tokens[i]
            if nxt[0] == "op" and nxt[1] in ("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=",
                                             "&=", "|=", "^="):
                i += 1
                rhs = expr(0)
                if nxt[1] != "=":
                    op = nxt[1][:-1]
                    cur = value_of(tok)
                    rhs = _div(cur, rhs, op) if op in "/%" else _BINARY[op][1](cur, rhs)
                set_(tok, str(rhs))
                return rhs
            return value_of(tok)
        if kind == "op" and tok == "(":
            i += 1
            v = expr(0)
            if tokens[i] != ("op", ")"):
                raise ArithError("arithmetic syntax error")
            i += 1
            return v
        if kind == "op" and tok in ("-", "+", "!", "~"):
            i += 1
            v = primary()
            return {"-": -v, "+": v, "!": int(not v), "~": ~v}[tok]
        raise ArithError("arithmetic syntax error")

    def expr(min_prec: int) -> int:
        nonlocal i
        left = primary()
        while True:
            kind, tok = tokens[i]
            if kind == "op" and tok == "?" and min_prec <= 0:
                i += 1
                a = expr(0)
                if tokens[i] != ("op", ":"):
                    raise ArithError("arithmetic syntax error")
                i += 1
                b = expr(0)
                left = a if left else b
                continue
            if kind != "op" or tok not in _BINARY:
                return left
            prec, fn = _BINARY[tok]
            if prec < min_prec:
                return left
            i += 1
            right = expr(prec + (0 if tok == "**" else 1))
            left = _div(left, right, tok) if fn is None else fn(left, right)

    result = expr(0)
    if tokens[i][0] != "end":
        raise ArithError("arithmetic syntax error")
    return result
