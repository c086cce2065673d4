"""Container logs: deterministic lines over virtual time, plus test-provided text.

Every container instance writes a start banner naming the container and image,
then one line every :data:`INTERVAL` virtual seconds, and a last line when it
exits.  ``set_logs`` replaces that content for a pod/container (current or
previous instance); such lines are timestamped when they were set (or when the
instance started, if later).

Options follow ``kubelet``'s ``ReadLogs``: since-filter, then ``tailLines``,
then timestamps, then ``limitBytes`` (which may cut the last line).
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import format_time_nano
from .podstate import ContainerRuntime, Instance

INTERVAL = 5.0


@dataclass
class LogOptions:
    """Parsed ``PodLogOptions`` query parameters."""

    tail_lines: int | None = None
    limit_bytes: int | None = None
    since: float | None = None      # absolute epoch seconds
    timestamps: bool = False


class LogSource:
    """The ordered ``(timestamp, text)`` lines of one container instance."""

    def __init__(self, container: ContainerRuntime, inst: Instance, now: float,
                 custom: tuple[float, str] | None):
        self.container = container
        self.inst = inst
        self.end = inst.finished if inst.finished is not None else now
        self.custom = None
        if custom is not None:
            set_at, text = custom
            stamp = max(set_at, inst.started)
            self.custom = [(stamp, line) for line in text.splitlines()] if stamp <= self.end \
                else []

    def count(self) -> int:
        """Number of lines written so far."""
        if self.custom is not None:
            return len(self.custom)
        ticks = int((self.end - self.inst.started) // INTERVAL)
        return 1 + ticks + (1 if self.inst.finished is not None else 0)

    def line(self, index: int) -> tuple[float, str]:
        """Line ``index`` (0-based)."""
        if self.custom is not None:
            return self.custom[index]
        c, inst = self.container, self.inst
        if index == 0:
            return inst.started, f"kubesim: starting container {c.name} from image {c.image}"
        ticks = int((self.end - inst.started) // INTERVAL)
        if index <= ticks:
            return inst.started + index * INTERVAL, (
                f"kubesim: container {c.name} is running (tick {index}, "
                f"uptime {int(index * INTERVAL)}s)")
        if inst.reason == "OOMKilled":
            return inst.finished, f"kubesim: container {c.name} ran out of memory (OOMKilled)"
        return inst.finished, (f"kubesim: container {c.name} exited with code {inst.exit_code} "
                               f"({inst.reason})")

    def first_since(self, since: float) -> int:
        """Index of the first line stamped at or after ``since``."""
        lo, hi = 0, self.count()
        while lo < hi:
            mid = (lo + hi) // 2
            if self.line(mid)[0] < since:
                lo = mid + 1
            else:
                hi = mid
        return lo


def render(source: LogSource, start: int, stop: int, timestamps: bool) -> bytes:
    """Lines ``[start, stop)`` as bytes, one per line."""
    out = []
    for i in range(start, stop):
        ts, text = source.line(i)
        out.append(f"{format_time_nano(ts)} {text}\n" if timestamps else f"{text}\n")
    return "".join(out).encode()


def select(source: LogSource, opts: LogOptions) -> tuple[bytes, int]:
    """The bytes a non-follow request returns, and the index after the last line sent."""
    total = source.count()
    start = source.first_since(opts.since) if opts.since is not None else 0
    if opts.tail_lines is not None:
        start = max(start, total - opts.tail_lines)
    body = render(source, start, total, opts.timestamps)
    if opts.limit_bytes is not None:
        body = body[:opts.limit_bytes]
    return body, total
