"""Counting the Kubernetes API requests a piece of work sends, so reports state measured numbers.

Every request of this adapter leaves through one method, ``ApiClient.call_api`` of the client
built in ``workers.kube.client`` (generated verbs, the raw log read and watches alike); it
records each request before sending it, so a request that fails or is retried counts each time.
Each request is also counted in Prometheus by verb, resource and code (``pods_kube_requests_total``).
Counts belong to the execution context (a contextvar): a worker's other threads, running other
tasks on the same client, never add to this one's count.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from core.metrics import KUBE_REQUESTS

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


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def verb_and_resource(method: str, url: str) -> tuple[str, str]:
    """Kubernetes' verb and resource of a request from its method and URL
    (``GET .../namespaces/default/pods/x/log`` → ``get``, ``pods/log``; ``?watch=true`` → ``watch``)."""
    parsed = urlsplit(url)
    parts = [p for p in parsed.path.split("/") if p]
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:] if parts[:1] == ["apis"] else parts
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]  # a namespaced resource
    resource = rest[0] if rest else ""
    named = len(rest) >= 2
    if len(rest) >= 3:
        resource = f"{resource}/{rest[2]}"
    method = method.upper()
    if method == "GET":
        if parse_qs(parsed.query).get("watch", [""])[0].lower() in ("true", "1"):
            return "watch", resource
        return ("get" if named else "list"), resource
    verb = _VERBS.get(method, method.lower())
    if verb == "delete" and not named:
        verb = "deletecollection"
    return verb, resource


def count_request(verb: str, resource: str, code) -> None:
    """One request answered with ``code`` (``error``: no HTTP answer at all)."""
    KUBE_REQUESTS.labels(verb, resource, str(code)).inc()
