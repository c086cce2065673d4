"""Logging a repeated condition once per change, not on every pass.

A pod that keeps failing the same way (its logs cannot be read, its reconcile keeps ending the
same way) would otherwise write the same line every few seconds. :func:`changed` remembers, per
process, the last message logged for a key; callers log at their level only when it differs,
and at DEBUG otherwise. Bounded: the memory is cleared past ``LIMIT`` keys.
"""
import threading

LIMIT = 10000
_last: dict = {}
_lock = threading.Lock()


def changed(key, message: str) -> bool:
    """True when ``message`` differs from the last one recorded for ``key`` (and record it)."""
    with _lock:
        if _last.get(key) == message:
            return False
        if len(_last) >= LIMIT:
            _last.clear()
        _last[key] = message
        return True


def forget(key) -> bool:
    """The condition ended (the next occurrence is news again); True if it had been recorded."""
    with _lock:
        return _last.pop(key, None) is not None
