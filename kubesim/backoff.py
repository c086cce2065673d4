"""The kubelet's restart and image-pull back-off policy (virtual seconds)."""

from __future__ import annotations

SYNC_SECONDS = 1.0          # kubelet notices an exit / retries on its next sync
BACKOFF_START = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0       # this long running healthily resets the back-off


def next_backoff(current: float) -> float:
    """10 s, 20 s, 40 s … capped at 300 s."""
    return BACKOFF_START if current <= 0 else min(current * 2, BACKOFF_MAX)


def pull_backoff(failures: int) -> float:
    """Wait before the next pull attempt after ``failures`` failed pulls."""
    return min(BACKOFF_START * 2 ** (failures - 1), BACKOFF_MAX)
