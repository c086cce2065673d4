"""Fault injection rules matched against incoming API requests.

A rule matches on HTTP method (or ``watch``, or ``*``) and an ``fnmatch`` glob
on the URL path, and fires at most ``times`` times (``None``: until cleared).
What it does, in order:

* ``latency`` - sleep that many wall-clock seconds first;
* ``drop="before"`` - close the connection without applying the request;
* ``status`` - answer with a ``Status`` error (``Retry-After`` header and
  ``details.retryAfterSeconds`` when ``retry_after`` is given).  On a watch
  request the error is delivered as a watch ``ERROR`` event instead;
* ``drop="after"`` - apply the request, then close the connection without a
  response (the write happened, the client sees a dropped connection).

A ``drop`` rule without ``times`` is an outage: it also cuts the open watch streams it matches
(within a second), as an API server going away does.

The control API itself (``/_kubesim/``) is never subject to faults.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import asdict, dataclass, field

VERBS = {"*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "WATCH"}


@dataclass
class Fault:
    """One injected fault rule (see module docstring)."""

    verb: str = "*"
    path: str = "*"
    status: int | None = None
    message: str | None = None
    reason: str | None = None
    retry_after: float | None = None
    latency: float = 0.0
    drop: str | None = None
    times: int | None = None
    id: int = 0
    hits: int = field(default=0)

    def __post_init__(self):
        self.verb = self.verb.upper()
        if self.verb not in VERBS:
            raise ValueError(f"verb must be one of {sorted(VERBS)}, not {self.verb!r}")
        if self.drop not in (None, "before", "after"):
            raise ValueError("drop must be 'before', 'after' or None")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.status is None and self.drop is None and not self.latency:
            raise ValueError("a fault needs at least one of status, drop or latency")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 (or null for unlimited)")

    def matches(self, method: str, path: str, is_watch: bool) -> bool:
        """Whether this rule applies to a request."""
        if self.verb == "WATCH":
            if not is_watch:
                return False
        elif self.verb != "*" and self.verb != method:
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict:
        """JSON form for the control API."""
        return asdict(self)


class FaultInjector:
    """The active fault rules."""

    def __init__(self):
        self.rules: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        """Register a rule; returns it with its id."""
        fault.id = next(self._ids)
        self.rules.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        """Remove one rule by id."""
        before = len(self.rules)
        self.rules = [f for f in self.rules if f.id != fault_id]
        return len(self.rules) != before

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def cuts_watch(self, path: str) -> bool:
        """Whether an outage rule (``drop``, no ``times``) cuts an open watch on ``path``."""
        return any(f.drop and f.times is None and f.matches("GET", path, True) for f in list(self.rules))

    def take(self, method: str, path: str, is_watch: bool) -> Fault | None:
        """The first matching rule, consuming one of its ``times``."""
        for fault in self.rules:
            if fault.matches(method, path, is_watch):
                fault.hits += 1
                if fault.times is not None and fault.hits >= fault.times:
                    self.rules.remove(fault)
                return fault
        return None
