"""The simulated userland of kubesim containers: ``sh`` plus GNU-style tools.

``APPLETS`` maps every command name to ``async def main(proc, args) -> int``;
the container image (:mod:`kubesim.fs.image`) gets one executable per applet in
``/bin``.  See docs/kubesim.md for the supported commands and flags.
"""

from __future__ import annotations

from .commands import basic, disk, files, tar, text
from .programs import PROGRAMS
from .shell import sh_main

APPLETS = {**basic.COMMANDS, **files.COMMANDS, **text.COMMANDS, **disk.COMMANDS,
           **tar.COMMANDS, "sh": sh_main, "ash": sh_main}

__all__ = ["APPLETS", "PROGRAMS"]
