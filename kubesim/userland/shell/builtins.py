"""Shell builtins: cd, pwd, echo, printf, test, read, export, unset, set, shift, exit,
return, break, continue, eval, ``.``/source, exec (in the interpreter), command, type,
umask, wait, trap, local, readonly, ``:``, true, false."""

from __future__ import annotations

import errno

from ...fs.errors import FsError
from ...fs.nodes import Dir
from ...fs.vfs import normalize
from ..commands import basic
from ..process import Proc, UsageError
from ..streams import BytesReader, NullWriter
from .control import FunctionReturn, LoopControl, ShellExit
from .parser import NAME, ShellSyntaxError, parse


def _proc(sh, fds: dict, name: str) -> Proc:
    return Proc(sh.ctx, sh.fs, sh.environ(), fds.get(0) or BytesReader(),
                fds.get(1) or NullWriter(), fds.get(2) or NullWriter(), name=name)


async def _out(fds: dict, text: str) -> None:
    await (fds.get(1) or NullWriter()).write(text.encode(errors="surrogateescape"))


def _delegate(fn):
    async def run(sh, argv, fds):
        proc = _proc(sh, fds, argv[0])
        try:
            return await fn(proc, argv[1:])
        except UsageError as exc:
            await sh.error(f"{argv[0]}: {exc}", fds)
            return 2
    return run


async def b_colon(sh, argv, fds):
    return 0


async def b_cd(sh, argv, fds):
    args = [a for a in argv[1:] if a not in ("-L", "-P")]
    physical = "-P" in argv[1:]
    if args and args[0] == "-":
        target = sh.get_var("OLDPWD") or sh.fs.cwd
        show = True
    else:
        target = args[0] if args else (sh.get_var("HOME") or "/")
        show = False
    if not target.startswith("/") and not target.startswith(".") and sh.get_var("CDPATH"):
        for base in sh.get_var("CDPATH").split(":"):
            candidate = (base or ".").rstrip("/") + "/" + target
            if sh.fs.exists(candidate):
                target, show = candidate, True
                break
    try:
        loc = sh.fs.walk(target)
        if not isinstance(loc.node, Dir):
            raise FsError(errno.ENOTDIR, target)
        if sh.fs.uid != 0 and not sh.fs.may(loc.node, 1):
            raise FsError(errno.EACCES, target)
    except FsError as exc:
        await sh.error(f"cd: can't cd to {target}: {exc.strerror}", fds)
        return 2
    new = loc.path if physical else normalize(sh.fs.absolute(target))
    sh.vars["OLDPWD"] = sh.fs.cwd
    sh.fs.cwd = new
    sh.vars["PWD"] = new
    if show:
        await _out(fds, new + "\n")
    return 0


async def b_pwd(sh, argv, fds):
    cwd = sh.fs.cwd
    if "-P" in argv[1:]:
        try:
            cwd = sh.fs.realpath(cwd)
        except FsError:
            pass
    await _out(fds, cwd + "\n")
    return 0


async def b_read(sh, argv, fds):
    raw = False
    names = []
    prompt = None
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-r":
            raw = True
        elif arg == "-p" and i + 1 < len(args):
            prompt = args[i + 1]
            i += 1
        elif arg in ("-s",):
            pass
        elif arg.startswith("-") and arg != "-":
            await sh.error(f"read: illegal option {arg}", fds)
            return 2
        else:
            names.append(arg)
        i += 1
    if prompt:
        await (fds.get(2) or NullWriter()).write(prompt.encode())
    reader = fds.get(0) or BytesReader()
    line_parts = []
    eof = False
    while True:
        line = await reader.readline()
        if not line:
            eof = True
            break
        text = line.decode(errors="surrogateescape")
        if text.endswith("\n"):
            text = text[:-1]
        if not raw and text.endswith("\\") and not text.endswith("\\\\"):
            line_parts.append(text[:-1])
            continue
        line_parts.append(text)
        break
    text = "".join(line_parts)
    if not raw:
        out, j = [], 0
        while j < len(text):
            if text[j] == "\\" and j + 1 < len(text):
                out.append(text[j + 1])
                j += 2
            else:
                out.append(text[j])
                j += 1
        text = "".join(out)
    names = names or ["REPLY"]
    ifs = sh.get_var("IFS")
    ifs = " \t\n" if ifs is None else ifs
    if names == ["REPLY"]:
        sh.set_var("REPLY", text)
    else:
        rest = text.strip(ifs) if ifs.strip() == "" else text.lstrip(" \t\n")
        for idx, name in enumerate(names):
            if idx == len(names) - 1:
                sh.set_var(name, rest.rstrip(" \t\n") if ifs.strip() == "" else rest)
                break
            if not ifs:
                sh.set_var(name, rest)
                rest = ""
                continue
            k = 0
            while k < len(rest) and rest[k] not in ifs:
                k += 1
            sh.set_var(name, rest[:k])
            rest = rest[k:].lstrip(" \t\n")
            if rest[:1] and rest[0] in ifs and rest[0] not in " \t\n":
                rest = rest[1:].lstrip(" \t\n")
    return 1 if eof and not line_parts else 0


async def b_export(sh, argv, fds):
    args = argv[1:]
    if not args or args == ["-p"]:
        for name in sorted(sh.exported):
            if name in sh.vars:
                value = sh.vars[name].replace("'", "'\\''")
                await _out(fds, f"export {name}='{value}'\n")
        return 0
    unexport = args[0] == "-n"
    for arg in args[1:] if unexport else args:
        name, sep, value = arg.partition("=")
        if not NAME.match(name):
            await sh.error(f"export: {arg}: bad variable name", fds)
            return 2
        if sep:
            sh.set_var(name, value)
        if unexport:
            sh.exported.discard(name)
        else:
            sh.exported.add(name)
    return 0


async def b_readonly(sh, argv, fds):
    for arg in argv[1:]:
        name, sep, value = arg.partition("=")
        if sep:
            sh.set_var(name, value)
    return 0


async def b_local(sh, argv, fds):
    return await b_readonly(sh, argv, fds)


async def b_unset(sh, argv, fds):
    functions = "-f" in argv[1:]
    for name in argv[1:]:
        if name in ("-f", "-v"):
            continue
        if functions:
            sh.funcs.pop(name, None)
        else:
            sh.vars.pop(name, None)
            sh.exported.discard(name)
    return 0


_OPTIONS = {"e": "errexit", "u": "nounset", "x": "xtrace", "f": "noglob"}


async def b_set(sh, argv, fds):
    args = argv[1:]
    if not args:
        for name in sorted(sh.vars):
            value = sh.vars[name].replace("'", "'\\''")
            await _out(fds, f"{name}='{value}'\n")
        return 0
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            sh.positional = args[i + 1:]
            return 0
        if arg in ("-o", "+o"):
            if i + 1 >= len(args):
                for name in _OPTIONS.values():
                    await _out(fds, f"{name:<16}{'on' if getattr(sh, name) else 'off'}\n")
                await _out(fds, f"{'pipefail':<16}{'on' if sh.pipefail else 'off'}\n")
                return 0
            option = args[i + 1]
            on = arg == "-o"
            if option == "pipefail":
                sh.pipefail = on
            elif option in _OPTIONS.values():
                setattr(sh, option, on)
            elif option not in ("posix", "monitor", "notify", "vi", "emacs", "noclobber",
                                "ignoreeof", "allexport", "noexec", "verbose", "nolog"):
                await sh.error(f"set: illegal option -o {option}", fds)
                return 2
            i += 2
            continue
        if arg[:1] in "-+" and len(arg) > 1:
            on = arg[0] == "-"
            for letter in arg[1:]:
                if letter in _OPTIONS:
                    setattr(sh, _OPTIONS[letter], on)
                elif letter not in "abCmnvh":
                    await sh.error(f"set: illegal option -{letter}", fds)
                    return 2
            i += 1
            continue
        sh.positional = args[i:]
        return 0
    return 0


async def b_shift(sh, argv, fds):
    try:
        n = int(argv[1]) if len(argv) > 1 else 1
    except ValueError:
        await sh.error(f"shift: Illegal number: {argv[1]}", fds)
        return 2
    if n > len(sh.positional):
        await sh.error("shift: can't shift that many", fds)
        return 1
    sh.positional = sh.positional[n:]
    return 0


def _status_arg(sh, argv, name):
    if len(argv) < 2:
        return sh.last_status
    try:
        return int(argv[1]) & 0xFF
    except ValueError:
        return None


async def b_exit(sh, argv, fds):
    status = _status_arg(sh, argv, "exit")
    if status is None:
        await sh.error(f"exit: Illegal number: {argv[1]}", fds)
        status = 2
    raise ShellExit(status)


async def b_return(sh, argv, fds):
    status = _status_arg(sh, argv, "return")
    raise FunctionReturn(2 if status is None else status)


async def b_break(sh, argv, fds):
    levels = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    raise LoopControl(argv[0], max(1, levels))


async def b_eval(sh, argv, fds):
    src = " ".join(argv[1:])
    if not src.strip():
        return 0
    try:
        tree = parse(src)
    except ShellSyntaxError as exc:
        await sh.error(str(exc), fds)
        return 2
    return await sh.run(tree, fds)


async def b_source(sh, argv, fds):
    if len(argv) < 2:
        await sh.error(f"{argv[0]}: filename argument required", fds)
        return 2
    path = argv[1]
    try:
        if "/" not in path:
            for directory in (sh.get_var("PATH") or "").split(":"):
                if sh.fs.exists(f"{directory or '.'}/{path}"):
                    path = f"{directory or '.'}/{path}"
                    break
        text = sh.fs.read_bytes(path).decode(errors="surrogateescape")
    except FsError as exc:
        await sh.error(f"{argv[0]}: can't open '{argv[1]}': {exc.strerror}", fds)
        return 2
    saved = sh.positional
    if len(argv) > 2:
        sh.positional = argv[2:]
    try:
        tree = parse(text)
        return await sh.run(tree, fds)
    except ShellSyntaxError as exc:
        await sh.error(str(exc), fds)
        return 2
    finally:
        if len(argv) > 2:
            sh.positional = saved


def _describe(sh, name: str) -> tuple[str, str] | None:
    if name in sh.funcs:
        return "function", name
    if name in sh.builtins:
        return ("special" if name in SPECIAL_NAMES else "builtin"), name
    found = sh.find_program(name)
    if isinstance(found, tuple):
        return "file", found[0]
    return None


async def b_command(sh, argv, fds):
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        verbose = args[0] == "-V"
        status = 0
        for name in args[1:]:
            found = _describe(sh, name)
            if found is None:
                if verbose:
                    await sh.error(f"command: {name}: not found", fds)
                status = 1
                continue
            kind, value = found
            if verbose:
                await _out(fds, f"{name} is {value if kind == 'file' else 'a shell ' + kind}\n")
            else:
                await _out(fds, value + "\n")
        return status
    if args and args[0] == "-p":
        args = args[1:]
    if not args:
        return 0
    if args[0] in sh.builtins:
        return await sh.builtins[args[0]](sh, args, fds)
    return await sh.external(args, [], fds)


async def b_type(sh, argv, fds):
    status = 0
    for name in argv[1:]:
        found = _describe(sh, name)
        if found is None:
            await _out(fds, f"{name}: not found\n")
            status = 127
            continue
        kind, value = found
        text = {"function": f"{name} is a function", "special": f"{name} is a special shell "
                "builtin", "builtin": f"{name} is a shell builtin",
                "file": f"{name} is {value}"}[kind]
        await _out(fds, text + "\n")
    return status


async def b_umask(sh, argv, fds):
    args = [a for a in argv[1:] if a != "-S"]
    if not args:
        if "-S" in argv:
            mask = ~sh.fs.umask & 0o777
            parts = []
            for who, shift in (("u", 6), ("g", 3), ("o", 0)):
                bits = (mask >> shift) & 7
                parts.append(who + "=" + "".join(c for c, b in (("r", 4), ("w", 2), ("x", 1))
                                                 if bits & b))
            await _out(fds, ",".join(parts) + "\n")
        else:
            await _out(fds, f"{sh.fs.umask:04o}\n")
        return 0
    try:
        sh.fs.umask = int(args[0], 8) & 0o777
    except ValueError:
        await sh.error(f"umask: Illegal mode: {args[0]}", fds)
        return 1
    return 0


async def b_wait(sh, argv, fds):
    await sh.wait_jobs()
    return 0


async def b_trap(sh, argv, fds):
    # Signals are not simulated; traps are accepted and never fire.
    return 0


async def b_true(sh, argv, fds):
    return 0


async def b_false(sh, argv, fds):
    return 1


async def b_kill(sh, argv, fds):
    await sh.error("kill: processes are not simulated", fds)
    return 1


SPECIAL_NAMES = {":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly",
                 "return", "set", "shift", "source", "trap", "unset"}

BUILTINS = {
    ":": b_colon, "true": b_true, "false": b_false, "cd": b_cd, "pwd": b_pwd,
    "echo": _delegate(basic.echo), "printf": _delegate(basic.printf),
    "test": _delegate(basic.test), "[": _delegate(basic.test), "read": b_read,
    "export": b_export, "readonly": b_readonly, "local": b_local, "unset": b_unset,
    "set": b_set, "shift": b_shift, "exit": b_exit, "return": b_return, "break": b_break,
    "continue": b_break, "eval": b_eval, ".": b_source, "source": b_source,
    "command": b_command, "type": b_type, "umask": b_umask, "wait": b_wait, "trap": b_trap,
    "kill": b_kill,
}
