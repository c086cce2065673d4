"""Virtual clock and timer queue driving the simulated control plane.

The simulator never reads wall time directly for object timestamps: everything
goes through :class:`VirtualClock`, so tests can jump forward deterministically.

Two modes:

* ``manual`` - time moves only when :meth:`VirtualClock.advance` is called
  (tests).  Timers fire during ``advance`` in due order, with the clock set to
  each timer's due time so timestamps look like a real timeline.
* ``wall`` - time follows the host's monotonic clock multiplied by ``speed``
  (CLI / ``make run``); a background task calls :meth:`run_due`.  ``advance``
  still works and simply adds an offset.

The clock is owned by the event-loop thread; it is not thread-safe by itself.
"""

from __future__ import annotations

import heapq
import itertools
import time
from datetime import datetime, timezone
from typing import Callable

MANUAL = "manual"
WALL = "wall"


def format_time(ts: float) -> str:
    """RFC 3339 second-precision UTC timestamp, as used in object metadata."""
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_time_nano(ts: float) -> str:
    """RFC 3339 timestamp with nanoseconds, as used by ``kubectl logs --timestamps``."""
    whole = int(ts)
    nanos = int(round((ts - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    base = datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos:09d}Z"


def format_micro(ts: float) -> str:
    """RFC 3339 with microseconds (``MicroTime``, used by ``Event.eventTime``)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> float:
    """Parse an RFC 3339 timestamp (``Z`` or offset, optional fraction) to epoch seconds."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # datetime.fromisoformat in 3.11 handles up to 6 fractional digits only.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        frac, rest = tail[:digits], tail[digits:]
        text = f"{head}.{frac[:6].ljust(6, '0')}{rest}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class Timer:
    """A scheduled callback; ``cancel()`` makes it a no-op when it comes due."""

    __slots__ = ("due", "callback", "cancelled")

    def __init__(self, due: float, callback: Callable[[], None]):
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Prevent the callback from running."""
        self.cancelled = True


class VirtualClock:
    """Epoch-seconds clock with an ordered timer queue (see module docstring)."""

    def __init__(self, mode: str = MANUAL, speed: float = 1.0, start: float | None = None):
        if mode not in (MANUAL, WALL):
            raise ValueError(f"clock mode must be {MANUAL!r} or {WALL!r}, not {mode!r}")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.mode = mode
        self.speed = float(speed)
        self._start = float(int(time.time()) if start is None else start)
        self._mono0 = time.monotonic()
        self._offset = 0.0
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._listeners: list[Callable[[], None]] = []

    # -- reading -----------------------------------------------------------
    def now(self) -> float:
        """Current virtual time in epoch seconds."""
        if self.mode == WALL:
            return self._start + (time.monotonic() - self._mono0) * self.speed + self._offset
        return self._start + self._offset

    def next_due(self) -> float | None:
        """Due time of the earliest pending timer, or ``None``."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def pending(self) -> int:
        """Number of scheduled (possibly cancelled) timers."""
        return len(self._heap)

    # -- scheduling --------------------------------------------------------
    def call_at(self, due: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` when virtual time reaches ``due``."""
        timer = Timer(due, callback)
        heapq.heappush(self._heap, (due, next(self._seq), timer))
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` ``delay`` virtual seconds from now."""
        return self.call_at(self.now() + max(0.0, delay), callback)

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every advance / timer batch (wakes log followers)."""
        self._listeners.append(callback)

    def clear_timers(self) -> None:
        """Drop every pending timer (used by reset)."""
        self._heap.clear()

    # -- moving time -------------------------------------------------------
    def run_due(self) -> int:
        """Fire every timer whose due time has passed; return how many ran."""
        ran = 0
        while True:
            due = self.next_due()
            if due is None or due > self.now():
                break
            _, _, timer = heapq.heappop(self._heap)
            timer.callback()
            ran += 1
        if ran:
            self._notify()
        return ran

    def advance(self, seconds: float) -> float:
        """Move virtual time forward, firing timers in order; return the new time.

        Each timer runs with the clock positioned exactly at its due time, so a
        pod that becomes Running 2 s after creation carries that timestamp even
        if the test advanced by a minute in one call.
        """
        if seconds < 0:
            raise ValueError("cannot move the clock backwards")
        target = self.now() + seconds
        while True:
            due = self.next_due()
            if due is None or due > target:
                break
            if due > self.now():
                self._offset += due - self.now()
            _, _, timer = heapq.heappop(self._heap)
            timer.callback()
        remaining = target - self.now()
        if remaining > 0:
            self._offset += remaining
        self._notify()
        return self.now()

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
