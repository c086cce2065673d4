"""Counting the Kubernetes API requests a piece of work sends, so reports state measured numbers.

Every request of this adapter leaves through one method, ``ApiClient.call_api`` of the client
built in ``workers.kube.client`` (generated verbs, the raw log read and watches alike); it
records each request before sending it, so a request that fails or is retried counts each time.
Counts belong to the execution context (a contextvar): a worker's other threads, running other
tasks on the same client, never add to this one's count.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_counters: ContextVar[tuple] = ContextVar("kube_request_counters", default=())


@dataclass
class RequestCount:
    requests: int = 0


@contextmanager
def counting_requests() -> Iterator[RequestCount]:
    """Count the API requests sent inside the block (blocks may nest; each counts its own)."""
    count = RequestCount()
    token = _counters.set((*_counters.get(), count))
    try:
        yield count
    finally:
        _counters.reset(token)


def record_request() -> None:
    """One request is about to be sent (called by the client only)."""
    for count in _counters.get():
        count.requests += 1
