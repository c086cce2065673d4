"""Control-flow exceptions of the shell (``exit``, ``return``, ``break``/``continue``)."""

from __future__ import annotations


class ShellExit(Exception):
    """``exit`` (or a fatal error) ends the shell with ``status``."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class FunctionReturn(Exception):
    """``return`` from a function."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class LoopControl(Exception):
    """``break`` / ``continue``."""

    def __init__(self, kind: str, levels: int):
        super().__init__(kind)
        self.kind = kind
        self.levels = levels
