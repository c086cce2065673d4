"""``sh``: a POSIX shell with BusyBox ash's messages (see :mod:`.interp`)."""

from __future__ import annotations

from ...fs.errors import FsError
from ..process import Proc
from .interp import Shell

OPTION_LETTERS = {"e": "errexit", "u": "nounset", "x": "xtrace", "f": "noglob"}


async def sh_main(proc: Proc, args: list[str]) -> int:
    """``sh [-eux] [-o opt] (-c script [arg0 [args...]] | file [args...] | -s [args...])``."""
    arg0 = getattr(proc, "argv0", "sh")
    command = None
    script = None
    positional: list[str] = []
    options: dict[str, bool] = {}
    pipefail = False
    i = 0
    read_stdin = False
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg in ("-o", "+o") and i + 1 < len(args):
            if args[i + 1] == "pipefail":
                pipefail = arg == "-o"
            elif args[i + 1] in OPTION_LETTERS.values():
                options[args[i + 1]] = arg == "-o"
            i += 2
            continue
        if len(arg) > 1 and arg[0] in "-+":
            for letter in arg[1:]:
                if letter == "c":
                    command = ""
                elif letter == "s":
                    read_stdin = True
                elif letter in OPTION_LETTERS:
                    options[OPTION_LETTERS[letter]] = arg[0] == "-"
                elif letter not in "ilmvh":
                    await proc.err(f"-{letter}: invalid option")
                    return 2
            i += 1
            continue
        break
    rest = args[i:]
    if command is not None:
        if not rest:
            await proc.err("-c requires an argument")
            return 2
        command = rest[0]
        if len(rest) > 1:
            arg0 = rest[1]
            positional = rest[2:]
    elif rest and not read_stdin:
        script, positional = rest[0], rest[1:]
    else:
        positional = rest
    shell = Shell(proc, arg0, positional)
    for name, on in options.items():
        setattr(shell, name, on)
    shell.pipefail = pipefail
    io = {0: proc.stdin, 1: proc.stdout, 2: proc.stderr}
    if command is not None:
        return await shell.run_script(command, io)
    if script is not None:
        try:
            text = proc.fs.read_bytes(script).decode(errors="surrogateescape")
        except FsError as exc:
            await proc.err(f"can't open '{script}': {exc.strerror}")
            return 2
        shell.arg0 = script
        shell.script = script
        return await shell.run_script(text, io)
    return await shell.run_interactive(proc.stdin, io, prompt=proc.ctx.tty)
