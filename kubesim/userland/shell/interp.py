"""The ``sh`` interpreter: runs parsed scripts against the simulated container.

Messages and statuses follow BusyBox ash (Alpine's ``/bin/sh``):
``sh: foo: not found`` (127), ``sh: can't create /ro/x: Read-only file
system`` (1), ``sh: can't open 'x': No such file or directory`` (1),
``sh: cd: can't cd to /x: No such file or directory`` (2), ``sh: syntax
error: unexpected "fi"`` (2).  Pipeline stages, subshells and command
substitutions run in copies of the shell; builtins run in-process.
"""

from __future__ import annotations

import asyncio
import errno
import fnmatch
from typing import Any

from ...fs.errors import FsError
from ...fs.nodes import Device, File
from ..process import SIGPIPE_STATUS, Proc, run_main
from ..runner import find_program, resolve_program
from ..streams import (BytesReader, CaptureWriter, FileReader, FileWriter, NullWriter, Pipe,
                       PipeReader, PipeWriter, Reader, Writer, device_reader)

from . import parser as ast
from .builtins import BUILTINS
from .control import FunctionReturn, LoopControl, ShellExit
from .expand import ExpansionError, Expander
from .parser import Incomplete, ShellSyntaxError, parse

SPECIAL = {":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly",
           "return", "set", "shift", "source", "trap", "unset"}


class RedirectionError(Exception):
    """A redirection failed (already reported)."""


class Shell:
    """One shell (or subshell) instance."""

    def __init__(self, proc: Proc, arg0: str = "sh", positional: list[str] | None = None):
        self.proc = proc
        self.ctx = proc.ctx
        self.fs = proc.fs
        self.vars: dict[str, str] = dict(proc.env)
        self.exported: set[str] = set(proc.env)
        self.vars.setdefault("PWD", self.fs.cwd)
        self.vars.setdefault("IFS", " \t\n")
        self.arg0 = arg0
        self.positional = list(positional or [])
        self.funcs: dict[str, Any] = {}
        self.last_status = 0
        self.last_bg = 0
        self.pid = self.ctx.next_pid()
        self.errexit = self.nounset = self.xtrace = self.pipefail = self.noglob = False
        self.script: str | None = None
        self.line = 1
        self.condition = 0
        self.exempt = False
        self.substitutions = 0
        self.jobs: list[tuple[asyncio.Task, bool]] = []
        self.expander = Expander(self)
        self.builtins = BUILTINS

    # -- state ---------------------------------------------------------------
    def fork(self) -> "Shell":
        """A subshell: copies variables, functions and options; own cwd."""
        child = Shell.__new__(Shell)
        child.__dict__.update(self.__dict__)
        child.fs = self.fs.fork()
        child.vars = dict(self.vars)
        child.exported = set(self.exported)
        child.funcs = dict(self.funcs)
        child.positional = list(self.positional)
        child.jobs = []
        child.expander = Expander(child)
        child.condition = 0
        return child

    def get_var(self, name: str) -> str | None:
        """A variable's value (``None`` if unset)."""
        if name == "PWD":
            return self.vars.get("PWD", self.fs.cwd)
        return self.vars.get(name)

    def set_var(self, name: str, value: str) -> None:
        """Assign a shell variable."""
        self.vars[name] = value

    def environ(self, extra: list[tuple[str, str]] = ()) -> dict:
        """Environment for a child process."""
        env = {k: self.vars[k] for k in self.exported if k in self.vars}
        env.update(extra)
        return env

    def flags(self) -> str:
        """``$-``."""
        return "".join(f for f, on in (("e", self.errexit), ("u", self.nounset),
                                        ("x", self.xtrace), ("f", self.noglob)) if on)

    # -- messages ------------------------------------------------------------
    async def error(self, message: str, io: dict | None = None) -> None:
        """``sh: message`` (``script: line N: message`` in a script file)."""
        prefix = f"{self.script}: line {self.line}: " if self.script else f"{self.arg0}: "
        stream = (io or {}).get(2, self.proc.stderr)
        try:
            await stream.write((prefix + message + "\n").encode())
        except FsError:
            pass

    # -- entry points ----------------------------------------------------------
    async def run_script(self, src: str, io: dict) -> int:
        """Parse and run a whole script; returns the exit status."""
        try:
            tree = parse(src)
        except ShellSyntaxError as exc:
            await self.error(str(exc) if "syntax error" in str(exc) else
                             f"syntax error: {exc}", io)
            return 2
        try:
            status = await self.run(tree, io)
        except ShellExit as exc:
            status = exc.status
        except (FunctionReturn, LoopControl):
            status = self.last_status
        await self.finish_jobs()
        return status

    async def run_interactive(self, reader: Reader, io: dict, prompt: bool = False) -> int:
        """Read commands from ``reader`` and run each as soon as it is complete."""
        pending = ""
        status = 0
        while True:
            if prompt:
                await _write(io.get(1), b"/ # " if self.fs.uid == 0 else b"$ ")
                await _flush(io.get(1))
            line = await reader.readline()
            if not line:
                if pending.strip():
                    await self.error("syntax error: unexpected end of file", io)
                    status = 2
                break
            pending += line.decode(errors="replace")
            try:
                tree = parse(pending)
            except Incomplete:
                continue
            except ShellSyntaxError as exc:
                await self.error(str(exc), io)
                pending = ""
                status = self.last_status = 2
                continue
            pending = ""
            try:
                status = await self.run(tree, io)
            except ShellExit as exc:
                status = exc.status
                break
            except (FunctionReturn, LoopControl):
                status = self.last_status
            await _flush(io.get(1))
        await self.finish_jobs()
        return status

    async def wait_jobs(self) -> None:
        """Wait for background jobs (``wait``)."""
        jobs, self.jobs = self.jobs, []
        for job, _ in jobs:
            try:
                await job
            except Exception:  # a job's failure is its own
                pass

    async def finish_jobs(self) -> None:
        """The shell exits: jobs still holding its stdout/stderr keep the session open (as
        the exec stream stays open while any process writes to it); the others detach and
        live on in the container (``nohup server >/dev/null 2>&1 &``)."""
        jobs, self.jobs = self.jobs, []
        for job, holds in jobs:
            if job.done():
                continue
            if holds:
                try:
                    await job
                except Exception:  # a job's failure is its own
                    pass
            else:
                self.ctx.detach(job)

    async def substitute(self, src: str) -> str:
        """``$(...)``: run ``src`` in a subshell and capture stdout (trailing newlines cut)."""
        self.substitutions += 1
        sub = self.fork()
        out = CaptureWriter(limit=64 * 2 ** 20)
        io = {0: self.proc.stdin, 1: out, 2: self.proc.stderr}
        try:
            tree = parse(src)
            status = await sub.run(tree, io)
        except ShellSyntaxError as exc:
            await self.error(str(exc))
            status = 2
        except ShellExit as exc:
            status = exc.status
        except (FunctionReturn, LoopControl):
            status = sub.last_status
        self.last_status = status
        return out.buffer.decode(errors="surrogateescape").rstrip("\n")

    # -- dispatch --------------------------------------------------------------
    async def run(self, node, io: dict) -> int:
        """Run any AST node."""
        method = getattr(self, "_run_" + type(node).__name__)
        status = await method(node, io)
        self.last_status = status
        return status

    async def _run_CommandList(self, node: ast.CommandList, io: dict) -> int:
        status = 0
        for item, background in zip(node.items, node.background):
            if background:
                sub = self.fork()
                task = asyncio.ensure_future(sub.run(item, dict(io)))
                ours = (self.proc.stdout, self.proc.stderr)
                inherits = any(io.get(fd) is stream for fd in (1, 2) for stream in ours)
                self.jobs.append((task, inherits and not _redirects_output(item)))
                self.last_bg = self.ctx.next_pid()  # ($$ stays the parent's in a subshell)
                status = 0
                continue
            self.exempt = False
            status = await self.run(item, io)
            if self.errexit and status and not self.condition and not self.exempt:
                raise ShellExit(status)
        return status

    async def _run_AndOr(self, node: ast.AndOr, io: dict) -> int:
        # set -e ignores failures of every command but the last one of an && / || list.
        last = len(node.items) - 1
        self.condition += last > 0
        try:
            status = await self.run(node.items[0], io)
        finally:
            self.condition -= last > 0
        ran_last = last == 0
        for i, (op, item) in enumerate(zip(node.ops, node.items[1:]), 1):
            if (op == "&&") != (status == 0):
                continue
            self.condition += i < last
            try:
                status = await self.run(item, io)
            finally:
                self.condition -= i < last
            ran_last = i == last
        self.exempt = not ran_last
        return status

    async def _run_Pipeline(self, node: ast.Pipeline, io: dict) -> int:
        if node.negate:
            self.condition += 1
        try:
            if len(node.commands) == 1:
                status = await self.run(node.commands[0], io)
            else:
                status = await self._pipeline(node.commands, io)
        finally:
            if node.negate:
                self.condition -= 1
        if node.negate:
            self.exempt = True
            return 0 if status else 1
        return status

    async def _pipeline(self, commands: list, io: dict) -> int:
        n = len(commands)
        pipes = [Pipe() for _ in range(n - 1)]

        async def stage(i: int, cmd) -> int:
            fds = dict(io)
            if i > 0:
                fds[0] = PipeReader(pipes[i - 1])
            if i < n - 1:
                fds[1] = PipeWriter(pipes[i])
            sub = self.fork()
            try:
                return await sub.run(cmd, fds)
            except ShellExit as exc:
                return exc.status
            except (FunctionReturn, LoopControl):
                return sub.last_status
            finally:
                if i < n - 1:
                    pipes[i].close_write()
                if i > 0:
                    pipes[i - 1].close_read()

        statuses = await asyncio.gather(*(stage(i, c) for i, c in enumerate(commands)))
        if self.pipefail:
            return next((s for s in reversed(statuses) if s), 0)
        return statuses[-1]

    async def _run_Subshell(self, node: ast.Subshell, io: dict) -> int:
        fds, opened = dict(io), []
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        sub = self.fork()
        try:
            return await sub.run(node.body, fds)
        except ShellExit as exc:
            return exc.status
        finally:
            await sub.finish_jobs()
            await _close(opened)

    async def _run_Group(self, node: ast.Group, io: dict) -> int:
        fds, opened = dict(io), []
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        try:
            return await self.run(node.body, fds)
        finally:
            await _close(opened)

    async def _run_If(self, node: ast.If, io: dict) -> int:
        fds, opened = dict(io), []
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        try:
            for cond, body in node.branches:
                self.condition += 1
                try:
                    ok = await self.run(cond, fds) == 0
                finally:
                    self.condition -= 1
                if ok:
                    return await self.run(body, fds)
            if node.otherwise is not None:
                return await self.run(node.otherwise, fds)
            return 0
        finally:
            await _close(opened)

    async def _loop_body(self, body, fds) -> tuple[int, str | None]:
        try:
            return await self.run(body, fds), None
        except LoopControl as exc:
            if exc.levels > 1:
                exc.levels -= 1
                raise
            return self.last_status, exc.kind

    async def _run_While(self, node: ast.While, io: dict) -> int:
        fds, opened = dict(io), []
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        status = 0
        try:
            while True:
                self.condition += 1
                try:
                    ok = await self.run(node.cond, fds) == 0
                finally:
                    self.condition -= 1
                if ok == node.until:
                    break
                status, control = await self._loop_body(node.body, fds)
                await asyncio.sleep(0)
                if control == "break":
                    break
            return status
        finally:
            await _close(opened)

    async def _run_For(self, node: ast.For, io: dict) -> int:
        fds, opened = dict(io), []
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        try:
            words = list(self.positional) if node.words is None else \
                await self._expand_words(node.words, fds)
            if words is None:
                return 1
            status = 0
            for word in words:
                self.set_var(node.name, word)
                status, control = await self._loop_body(node.body, fds)
                if control == "break":
                    break
            return status
        finally:
            await _close(opened)

    async def _run_Case(self, node: ast.Case, io: dict) -> int:
        fds, opened = dict(io), []
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        try:
            word = await self.expander.one(node.word)
            for patterns, body in node.arms:
                for raw in patterns:
                    if fnmatch.fnmatchcase(word, await self.expander.pattern(raw)):
                        return await self.run(body, fds)
            return 0
        except ExpansionError as exc:
            await self.error(str(exc), fds)
            return 1
        finally:
            await _close(opened)

    async def _run_FuncDef(self, node: ast.FuncDef, io: dict) -> int:
        self.funcs[node.name] = node.body
        return 0

    async def _expand_words(self, words: list[str], io: dict) -> list[str] | None:
        try:
            return await self.expander.words(words)
        except ExpansionError as exc:
            await self.error(str(exc), io)
            raise ShellExit(2 if "syntax" in str(exc) else 1) from None

    # -- simple commands -------------------------------------------------------
    async def _run_Simple(self, node: ast.Simple, io: dict) -> int:
        self.line = node.line
        substitutions = self.substitutions
        argv = await self._expand_words(node.words, io)
        try:
            assigns = [(name, await self.expander.one(value)) for name, value in node.assigns]
        except ExpansionError as exc:
            await self.error(str(exc), io)
            raise ShellExit(1) from None
        if self.xtrace:
            shown = [f"{n}={v}" for n, v in assigns] + [_shell_quote(a) for a in argv]
            await _write(io.get(2), ("+ " + " ".join(shown) + "\n").encode())
        fds, opened = dict(io), []
        if not argv:
            for name, value in assigns:
                self.set_var(name, value)
            ok = await self._redirect(node.redirs, fds, opened)
            await _close(opened)
            # A bare assignment's status is that of its last command substitution, or 0.
            status = self.last_status if self.substitutions != substitutions else 0
            return status if ok else 1
        name = argv[0]
        if name == "exec":
            return await self._exec(argv, assigns, node, io)
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        try:
            if name in SPECIAL and name in self.builtins:
                for var, value in assigns:
                    self.set_var(var, value)
                return await self._builtin(name, argv, fds)
            if name in self.funcs:
                return await self._call(name, argv, assigns, fds)
            if name in self.builtins:
                saved = {k: self.vars.get(k) for k, _ in assigns}
                for var, value in assigns:
                    self.set_var(var, value)
                try:
                    return await self._builtin(name, argv, fds)
                finally:
                    for var, value in saved.items():
                        if value is None:
                            self.vars.pop(var, None)
                        else:
                            self.vars[var] = value
            return await self.external(argv, assigns, fds)
        finally:
            await _close(opened)

    async def _builtin(self, name: str, argv: list[str], fds: dict) -> int:
        try:
            return await self.builtins[name](self, argv, fds)
        except FsError as exc:
            if exc.errno == errno.EPIPE:
                return SIGPIPE_STATUS
            await self.error(f"{name}: write error: {exc.strerror}", fds)
            return 1

    async def _call(self, name: str, argv: list[str], assigns, fds: dict) -> int:
        saved = self.positional
        self.positional = argv[1:]
        for var, value in assigns:
            self.set_var(var, value)
        try:
            return await self.run(self.funcs[name], fds)
        except FunctionReturn as exc:
            return exc.status
        finally:
            self.positional = saved

    async def _exec(self, argv, assigns, node, io: dict) -> int:
        if len(argv) == 1:
            # exec with redirections only: they apply to the shell from now on.
            opened: list = []
            if not await self._redirect(node.redirs, io, opened):
                return 1
            return 0
        fds, opened = dict(io), []
        if not await self._redirect(node.redirs, fds, opened):
            return 1
        try:
            status = await self.external(argv[1:], assigns, fds)
        finally:
            await _close(opened)
        raise ShellExit(status)

    def find_program(self, name: str) -> tuple[str, File] | int:
        """Resolve a command name through ``PATH``: ``(path, file)`` or an errno."""
        return find_program(self.fs, name, self.vars.get("PATH") or "")

    async def external(self, argv: list[str], assigns, fds: dict) -> int:
        """Run a program from the filesystem (applet, script with ``#!``, or text script)."""
        name = argv[0]
        found = self.find_program(name)
        if isinstance(found, int):
            if found == errno.ENOENT:
                await self.error(f"{name}: not found", fds)
                return 127
            await self.error(f"{name}: {FsError(found).strerror}", fds)
            return 126
        path, node = found
        if not self.fs.may(node, 1):
            await self.error(f"{name}: Permission denied", fds)
            return 126
        env = self.environ(assigns)
        resolved = resolve_program(self.fs, path, node, argv)
        if isinstance(resolved, str):
            await self.error(f"{name}: {resolved}", fds)
            return 126
        applet, args = resolved
        main = self.ctx.applets.get(applet)
        if main is None:
            await self.error(f"{name}: Exec format error", fds)
            return 126
        proc = Proc(self.ctx, self.fs.fork(), env, fds.get(0) or BytesReader(),
                    fds.get(1) or NullWriter(), fds.get(2) or NullWriter(),
                    name=args[0].rsplit("/", 1)[-1], fds=fds)
        proc.argv0 = args[0]
        return await run_main(main, proc, args[1:])

    # -- redirections ----------------------------------------------------------
    async def _redirect(self, redirs: list, fds: dict, opened: list) -> bool:
        try:
            for r in redirs:
                await self._one_redirect(r, fds, opened)
            return True
        except RedirectionError:
            await _close(opened)
            return False
        except ExpansionError as exc:
            await self.error(str(exc), fds)
            await _close(opened)
            return False

    async def _one_redirect(self, r: ast.Redir, fds: dict, opened: list) -> None:
        op = r.op
        fd = r.fd if r.fd is not None else (0 if op in ("<", "<&", "<>", "<<", "<<-") else 1)
        if op in ("<<", "<<-"):
            doc = r.target
            text = await self.expander.heredoc(doc.body) if doc.expand else doc.body
            fds[fd] = BytesReader(text.encode(errors="surrogateescape"))
            return
        target = await self.expander.one(r.target)
        if op in (">&", "<&"):
            if target == "-":
                fds[fd] = NullWriter() if fd else BytesReader()
                return
            if target.isdigit():
                source = int(target)
                if source not in fds:
                    await self.error(f"{source}: Bad file descriptor", fds)
                    raise RedirectionError()
                fds[fd] = fds[source]
                return
            if op == "<&":
                await self.error(f"{target}: bad number", fds)
                raise RedirectionError()
            op = "&>"
        if op in (">", ">|", ">>", "&>", "&>>"):
            append = op in (">>", "&>>")
            try:
                writer = self.open_output(target, append, fds)
            except FsError as exc:
                await self.error(f"can't create {target}: {exc.strerror}", fds)
                raise RedirectionError() from None
            opened.append(writer)
            if op in ("&>", "&>>"):
                fds[1] = fds[2] = writer
            else:
                fds[fd] = writer
            return
        try:
            if op == "<>" and not self.fs.exists(target):
                self.fs.open_write(target)
            node = self.fs.open_read(target)
        except FsError as exc:
            await self.error(f"can't open '{target}': {exc.strerror}", fds)
            raise RedirectionError() from None
        if isinstance(node, Device):
            fds[fd] = device_reader(node, fds.get(0) or BytesReader())
        else:
            fds[fd] = FileReader(node)

    def open_output(self, path: str, append: bool, fds: dict) -> Writer:
        """Open ``path`` for ``>``/``>>`` (``/dev/stdout`` is fd 1)."""
        handle = self.fs.open_write(path, append=append)
        node = handle.node
        if isinstance(node, Device):
            if node.device in ("stdout", "tty"):
                return fds.get(1) or NullWriter()
            if node.device == "stderr":
                return fds.get(2) or NullWriter()
        return FileWriter(handle)


def _redirects_output(item) -> bool:
    """Whether a job's own redirections send both stdout and stderr elsewhere."""
    if not isinstance(item, ast.AndOr) or len(item.items) != 1:
        return False
    pipeline = item.items[0]
    if len(pipeline.commands) != 1:
        return False
    fds: set[int] = set()
    for r in getattr(pipeline.commands[0], "redirs", []):
        if r.op in ("&>", "&>>"):
            fds |= {1, 2}
        elif r.op in (">", ">>", ">|", ">&"):
            fds.add(1 if r.fd is None else r.fd)
    return {1, 2} <= fds


async def _write(stream, data: bytes) -> None:
    if stream is not None:
        try:
            await stream.write(data)
        except FsError:
            pass


async def _flush(stream) -> None:
    if stream is not None:
        try:
            await stream.flush()
        except FsError:
            pass


async def _close(opened: list) -> None:
    # Only flush: a redirection to /dev/stdout hands back the shell's own stdout.
    for writer in opened:
        await _flush(writer)
    opened.clear()


def _shell_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "@%+=:,./-_" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


