"""POSIX ``sh`` lexer and parser (the subset kubesim's ``sh`` runs).

Supported: simple commands with assignments and redirections (``<``, ``>``,
``>>``, ``>|``, ``<>``, ``n>&m``, ``n<&m``, ``&>``, here-documents ``<<`` and
``<<-``), pipelines with ``!``, ``&&``/``||`` lists, ``;``/``&``/newline
separators, ``( subshells )``, ``{ groups; }``, ``if/elif/else``, ``for``,
``while``/``until``, ``case`` and function definitions.  Words keep their raw
source (quotes included); :mod:`.expand` interprets them.

Syntax errors raise :class:`ShellSyntaxError` with ash's wording; input that
ends inside a construct raises :class:`Incomplete` (``sh`` reading commands
from stdin waits for more lines then).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPERATORS = ("&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", "&>>", "&>",
             "|", "&", ";", "(", ")", "<", ">")
REDIRECTS = {"<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<", "<<-"}
RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "for", "in", "while", "until",
            "case", "esac", "{", "}", "!"}
META = set(" \t\n;&|()<>")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ShellSyntaxError(Exception):
    """``sh: syntax error: ...``"""


class Incomplete(ShellSyntaxError):
    """The input ended inside a quote, a here-document or a compound command."""


# -- AST -----------------------------------------------------------------------
@dataclass
class HereDoc:
    """A here-document body (filled in when the lexer reaches it)."""

    delimiter: str
    strip_tabs: bool
    expand: bool
    body: str = ""


@dataclass
class Redir:
    """``[fd]op target``; ``target`` is a raw word, an fd number or a :class:`HereDoc`."""

    fd: int | None
    op: str
    target: object


@dataclass
class Simple:
    """``NAME=value ... word ... [redirections]``."""

    assigns: list[tuple[str, str]]
    words: list[str]
    redirs: list[Redir]
    line: int = 1


@dataclass
class Pipeline:
    """``[!] cmd | cmd ...``."""

    commands: list
    negate: bool = False


@dataclass
class AndOr:
    """``pipeline && pipeline || ...`` (``ops[i]`` joins items i and i+1)."""

    items: list
    ops: list[str]


@dataclass
class CommandList:
    """Commands separated by ``;``/newlines; ``background[i]`` for ``&``."""

    items: list
    background: list[bool]


@dataclass
class Subshell:
    """``( list )``."""

    body: CommandList
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Group:
    """``{ list; }``."""

    body: CommandList
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class If:
    """``if c; then b; elif c; then b; else b; fi``."""

    branches: list[tuple[CommandList, CommandList]]
    otherwise: CommandList | None
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class For:
    """``for name [in words]; do body; done``."""

    name: str
    words: list[str] | None
    body: CommandList
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class While:
    """``while|until cond; do body; done``."""

    cond: CommandList
    body: CommandList
    until: bool = False
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Case:
    """``case word in pattern|pattern) list;; ... esac``."""

    word: str
    arms: list[tuple[list[str], CommandList]]
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class FuncDef:
    """``name() compound-command``."""

    name: str
    body: object


# -- lexer ---------------------------------------------------------------------
class Lexer:
    """Turns source text into WORD / OP / IO_NUMBER / HEREDOC tokens."""

    def __init__(self, src: str):
        self.src = src
        self.i = 0
        self.line = 1
        self.pending: list[HereDoc] = []
        self.heredoc_next = None   # (strip_tabs) when the next word is a delimiter

    def error(self, message: str) -> ShellSyntaxError:
        return ShellSyntaxError(message)

    def _skip_blanks(self) -> None:
        src = self.src
        while self.i < len(src):
            ch = src[self.i]
            if ch in " \t":
                self.i += 1
            elif ch == "\\" and src.startswith("\\\n", self.i):
                self.i += 2
                self.line += 1
            elif ch == "#":
                while self.i < len(src) and src[self.i] != "\n":
                    self.i += 1
            else:
                break

    def tokens(self):
        """Generate ``(kind, value, line)`` tuples, ending with ``("EOF", "", line)``."""
        src = self.src
        while True:
            self._skip_blanks()
            if self.i >= len(src):
                if self.pending:
                    raise Incomplete("unexpected end of file (expecting here-document)")
                yield ("EOF", "", self.line)
                return
            ch = src[self.i]
            if ch == "\n":
                self.i += 1
                self.line += 1
                if self.pending:
                    self._read_heredocs()
                yield ("OP", "\n", self.line - 1)
                continue
            op = next((o for o in OPERATORS if src.startswith(o, self.i)), None)
            if op is not None:
                self.i += len(op)
                if op in ("<<", "<<-"):
                    self.heredoc_next = op == "<<-"
                yield ("OP", op, self.line)
                continue
            start = self.i
            raw = self._word()
            if self.heredoc_next is not None:
                doc = HereDoc(_unquote(raw), self.heredoc_next,
                              not any(c in raw for c in "'\"\\"))
                self.heredoc_next = None
                self.pending.append(doc)
                yield ("HEREDOC", doc, self.line)
                continue
            if raw.isdigit() and self.i < len(src) and src[self.i] in "<>" \
                    and start == self.i - len(raw):
                yield ("IO_NUMBER", raw, self.line)
                continue
            yield ("WORD", raw, self.line)

    def _word(self) -> str:
        src, start = self.src, self.i
        while self.i < len(src):
            ch = src[self.i]
            if ch in META:
                break
            if ch == "\\":
                if self.i + 1 >= len(src):
                    self.i += 1
                    break
                if src[self.i + 1] == "\n":
                    self.line += 1
                self.i += 2
            elif ch == "'":
                end = src.find("'", self.i + 1)
                if end < 0:
                    raise Incomplete("unterminated quoted string")
                self.line += src.count("\n", self.i, end)
                self.i = end + 1
            elif ch == '"':
                self.i = self._double(self.i + 1)
            elif ch == "`":
                self.i = self._backtick(self.i + 1)
            elif ch == "$":
                self.i = self._dollar(self.i)
            else:
                self.i += 1
        return src[start:self.i]

    def _double(self, i: int) -> int:
        src = self.src
        while i < len(src):
            ch = src[i]
            if ch == '"':
                return i + 1
            if ch == "\\":
                i += 2
            elif ch == "$":
                i = self._dollar(i)
            elif ch == "`":
                i = self._backtick(i + 1)
            else:
                if ch == "\n":
                    self.line += 1
                i += 1
        raise Incomplete("unterminated quoted string")

    def _backtick(self, i: int) -> int:
        src = self.src
        while i < len(src):
            if src[i] == "\\":
                i += 2
                continue
            if src[i] == "`":
                return i + 1
            i += 1
        raise Incomplete("unterminated `...`")

    def _dollar(self, i: int) -> int:
        src = self.src
        if src.startswith("$((", i):
            return _matching(src, i + 3, "((", "))", self)
        if src.startswith("$(", i):
            return _skip_command(src, i + 2, self)
        if src.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(src):
                ch = src[j]
                if ch == "\\":
                    j += 2
                    continue
                if ch == "'":
                    end = src.find("'", j + 1)
                    if end < 0:
                        raise Incomplete("unterminated quoted string")
                    j = end + 1
                    continue
                if ch == '"':
                    j = self._double(j + 1)
                    continue
                if src.startswith("${", j):
                    depth += 1
                    j += 2
                    continue
                if ch == "}":
                    depth -= 1
                    if not depth:
                        return j + 1
                j += 1
            raise Incomplete("missing '}'")
        return i + 1

    def _read_heredocs(self) -> None:
        src = self.src
        for doc in self.pending:
            lines = []
            while True:
                if self.i >= len(src):
                    raise Incomplete("unexpected end of file (expecting here-document)")
                end = src.find("\n", self.i)
                line = src[self.i:] if end < 0 else src[self.i:end]
                self.i = len(src) if end < 0 else end + 1
                self.line += 1
                check = line.lstrip("\t") if doc.strip_tabs else line
                if check == doc.delimiter:
                    break
                lines.append(check if doc.strip_tabs else line)
            doc.body = "".join(line + "\n" for line in lines)
        self.pending = []


def _matching(src: str, i: int, open_: str, close: str, lexer: Lexer) -> int:
    depth = 1
    while i < len(src):
        if src.startswith(close, i):
            depth -= 1
            if not depth:
                return i + len(close)
            i += len(close)
            continue
        if src[i] == "(":
            depth += 1
        elif src[i] == ")" and depth > 1:
            depth -= 1
        i += 1
    raise Incomplete("missing '))'")


def _skip_command(src: str, i: int, lexer: Lexer) -> int:
    """Index after the ``)`` closing a ``$(`` whose content starts at ``i``."""
    depth = 1
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "'":
            end = src.find("'", i + 1)
            if end < 0:
                raise Incomplete("unterminated quoted string")
            i = end + 1
            continue
        if ch == '"':
            i = lexer._double(i + 1)
            continue
        if ch == "`":
            i = lexer._backtick(i + 1)
            continue
        if ch == "$":
            if src.startswith("$(", i) or src.startswith("${", i):
                i = lexer._dollar(i)
                continue
        if ch == "#" and (i == 0 or src[i - 1] in " \t\n;"):
            while i < len(src) and src[i] != "\n":
                i += 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if not depth:
                return i + 1
        i += 1
    raise Incomplete("missing ')'")


def _unquote(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
        elif ch in "'\"":
            end = raw.find(ch, i + 1)
            end = len(raw) if end < 0 else end
            out.append(raw[i + 1:end])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# -- parser --------------------------------------------------------------------
class Parser:
    """Recursive-descent parser over :class:`Lexer` tokens."""

    def __init__(self, src: str):
        self._gen = Lexer(src).tokens()
        self._peek: tuple | None = None

    def peek(self) -> tuple:
        if self._peek is None:
            self._peek = next(self._gen)
        return self._peek

    def next(self) -> tuple:
        tok = self.peek()
        self._peek = None
        return tok

    def _unexpected(self, tok: tuple) -> ShellSyntaxError:
        kind, value, _ = tok
        if kind == "EOF":
            return Incomplete("unexpected end of file")
        shown = "newline" if value == "\n" else value
        return ShellSyntaxError(f'syntax error: unexpected "{shown}"' if kind != "WORD"
                                else f'syntax error: unexpected word "{value}"')

    def _is_word(self, tok: tuple, *words: str) -> bool:
        return tok[0] == "WORD" and tok[1] in words

    def _expect_word(self, word: str) -> None:
        tok = self.next()
        if not self._is_word(tok, word):
            if tok[0] == "EOF":
                raise Incomplete(f"unexpected end of file (expecting \"{word}\")")
            raise self._unexpected(tok)

    def _newlines(self) -> None:
        while self.peek()[:2] == ("OP", "\n"):
            self.next()

    def program(self) -> CommandList:
        """Parse the whole input."""
        self._newlines()
        body = self.command_list(())
        tok = self.peek()
        if tok[0] != "EOF":
            raise self._unexpected(tok)
        return body

    def command_list(self, stop: tuple[str, ...]) -> CommandList:
        """``and_or ((; | & | newline) and_or)*`` until a reserved word in ``stop``."""
        items, background = [], []
        while True:
            self._newlines()
            tok = self.peek()
            if tok[0] == "EOF" or self._is_word(tok, *stop) or tok[:2] in (("OP", ")"),
                                                                            ("OP", ";;")):
                break
            items.append(self.and_or())
            background.append(False)
            tok = self.peek()
            if tok[:2] in (("OP", ";"), ("OP", "&")):
                self.next()
                background[-1] = tok[1] == "&"
            elif tok[:2] == ("OP", "\n"):
                continue
            else:
                break
        return CommandList(items, background)

    def and_or(self) -> AndOr:
        items, ops = [self.pipeline()], []
        while self.peek()[:2] in (("OP", "&&"), ("OP", "||")):
            ops.append(self.next()[1])
            self._newlines()
            items.append(self.pipeline())
        return AndOr(items, ops)

    def pipeline(self) -> Pipeline:
        negate = False
        if self._is_word(self.peek(), "!"):
            self.next()
            negate = True
        commands = [self.command()]
        while self.peek()[:2] == ("OP", "|"):
            self.next()
            self._newlines()
            commands.append(self.command())
        return Pipeline(commands, negate)

    def command(self):
        tok = self.peek()
        kind, value, _ = tok
        if kind == "OP" and value == "(":
            self.next()
            body = self.command_list(())
            if self.next()[:2] != ("OP", ")"):
                raise Incomplete("unexpected end of file (expecting \")\")")
            return Subshell(body, self._redirs())
        if kind == "WORD":
            if value == "{":
                self.next()
                body = self.command_list(("}",))
                self._expect_word("}")
                return Group(body, self._redirs())
            if value == "if":
                return self._if()
            if value in ("while", "until"):
                self.next()
                cond = self.command_list(("do",))
                self._expect_word("do")
                body = self.command_list(("done",))
                self._expect_word("done")
                return While(cond, body, value == "until", self._redirs())
            if value == "for":
                return self._for()
            if value == "case":
                return self._case()
            if value in ("then", "else", "elif", "fi", "do", "done", "esac", "}", "in"):
                raise self._unexpected(tok)
        if kind == "EOF":
            raise Incomplete("unexpected end of file")
        if kind == "OP" and value not in REDIRECTS:
            raise self._unexpected(tok)
        return self._simple()

    def _if(self) -> If:
        self.next()
        branches = []
        cond = self.command_list(("then",))
        self._expect_word("then")
        body = self.command_list(("elif", "else", "fi"))
        branches.append((cond, body))
        otherwise = None
        while True:
            tok = self.next()
            if self._is_word(tok, "elif"):
                cond = self.command_list(("then",))
                self._expect_word("then")
                branches.append((cond, self.command_list(("elif", "else", "fi"))))
            elif self._is_word(tok, "else"):
                otherwise = self.command_list(("fi",))
                self._expect_word("fi")
                break
            elif self._is_word(tok, "fi"):
                break
            elif tok[0] == "EOF":
                raise Incomplete('unexpected end of file (expecting "fi")')
            else:
                raise self._unexpected(tok)
        return If(branches, otherwise, self._redirs())

    def _for(self) -> For:
        self.next()
        tok = self.next()
        if tok[0] != "WORD" or not NAME.match(tok[1]):
            raise ShellSyntaxError("syntax error: bad for loop variable")
        name = tok[1]
        words = None
        tok = self.peek()
        if tok[:2] == ("OP", ";"):
            self.next()
        self._newlines()
        if self._is_word(self.peek(), "in"):
            self.next()
            words = []
            while self.peek()[0] == "WORD":
                words.append(self.next()[1])
            tok = self.next()
            if tok[:2] not in (("OP", ";"), ("OP", "\n")):
                raise self._unexpected(tok)
        self._newlines()
        self._expect_word("do")
        body = self.command_list(("done",))
        self._expect_word("done")
        return For(name, words, body, self._redirs())

    def _case(self) -> Case:
        self.next()
        tok = self.next()
        if tok[0] != "WORD":
            raise self._unexpected(tok)
        word = tok[1]
        self._newlines()
        self._expect_word("in")
        arms = []
        while True:
            self._newlines()
            tok = self.peek()
            if self._is_word(tok, "esac"):
                self.next()
                break
            if tok[:2] == ("OP", "("):
                self.next()
            patterns = []
            while True:
                tok = self.next()
                if tok[0] != "WORD":
                    raise self._unexpected(tok)
                patterns.append(tok[1])
                tok = self.next()
                if tok[:2] == ("OP", ")"):
                    break
                if tok[:2] != ("OP", "|"):
                    raise self._unexpected(tok)
            body = self.command_list(("esac",))
            arms.append((patterns, body))
            tok = self.peek()
            if tok[:2] == ("OP", ";;"):
                self.next()
            elif self._is_word(tok, "esac"):
                continue
            elif tok[0] == "EOF":
                raise Incomplete('unexpected end of file (expecting "esac")')
            else:
                raise self._unexpected(tok)
        return Case(word, arms, self._redirs())

    def _redir(self, fd: int | None) -> Redir:
        op = self.next()[1]
        tok = self.next()
        if op in ("<<", "<<-"):
            if tok[0] != "HEREDOC":
                raise self._unexpected(tok)
            return Redir(fd, op, tok[1])
        if tok[0] != "WORD":
            raise self._unexpected(tok)
        return Redir(fd, op, tok[1])

    def _redirs(self) -> list[Redir]:
        out = []
        while True:
            tok = self.peek()
            if tok[0] == "IO_NUMBER":
                self.next()
                out.append(self._redir(int(tok[1])))
            elif tok[0] == "OP" and tok[1] in REDIRECTS:
                out.append(self._redir(None))
            else:
                return out

    def _simple(self):
        assigns: list[tuple[str, str]] = []
        words: list[str] = []
        redirs: list[Redir] = []
        line = self.peek()[2]
        while True:
            tok = self.peek()
            kind, value, _ = tok
            if kind == "IO_NUMBER":
                self.next()
                redirs.append(self._redir(int(value)))
            elif kind == "OP" and value in REDIRECTS:
                redirs.append(self._redir(None))
            elif kind == "WORD":
                if not words and ASSIGNMENT.match(value):
                    self.next()
                    name, _, rhs = value.partition("=")
                    assigns.append((name, rhs))
                    continue
                self.next()
                words.append(value)
                if len(words) == 1 and not assigns and not redirs and NAME.match(value) \
                        and self.peek()[:2] == ("OP", "("):
                    self.next()
                    if self.next()[:2] != ("OP", ")"):
                        raise ShellSyntaxError('syntax error: unexpected "("')
                    self._newlines()
                    return FuncDef(value, self.command())
            else:
                break
        if not assigns and not words and not redirs:
            raise self._unexpected(self.peek())
        return Simple(assigns, words, redirs, line)


def parse(src: str) -> CommandList:
    """Parse a script; raises :class:`ShellSyntaxError` / :class:`Incomplete`."""
    return Parser(src).program()
