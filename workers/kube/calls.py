"""One wrapper for every API call: timeouts, error translation and the retry policy.

Retried (exponential backoff with full jitter, bounded attempts): 429 (honouring Retry-After),
5xx, timeouts and connection errors. Never retried: 400/401/403/415/422. A retried create whose
first attempt was applied but whose response was lost comes back as AlreadyExists, which the
caller treats as "adopt if ours".
"""
import json
import logging

import urllib3
from django.conf import settings
from kubernetes.client.exceptions import ApiException
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from .errors import (
    AlreadyExists,
    ClusterUnavailable,
    Conflict,
    NotFound,
    PermanentKubeError,
    TransientKubeError,
)

logger = logging.getLogger(__name__)


def _status_message(exc: ApiException) -> tuple[str, str]:
    """The API server's own reason and message from its `Status` body, when it sent one."""
    try:
        body = json.loads(exc.body or "{}")
        return body.get("reason", "") or "", body.get("message", "") or (exc.reason or "")
    except (ValueError, TypeError):
        return "", exc.reason or ""


def translate(exc: Exception) -> Exception:
    """Map a client exception to one of ours."""
    if isinstance(exc, ApiException):
        reason, message = _status_message(exc)
        status = exc.status
        text = f"Kubernetes API {status} {reason}: {message}".strip()
        if status == 404:
            return NotFound(text, status=status, reason=reason)
        if status == 409:
            cls = AlreadyExists if reason == "AlreadyExists" else Conflict
            return cls(text, status=status, reason=reason)
        if status == 429 or (status and status >= 500):
            retry_after = None
            header = (exc.headers or {}).get("Retry-After")
            if header:
                try:
                    retry_after = float(header)
                except ValueError:
                    retry_after = None
            return TransientKubeError(text, status=status, reason=reason, retry_after=retry_after)
        if not status:  # the client reports some transport failures as status 0
            return ClusterUnavailable(f"Kubernetes API unreachable: {exc.reason}")
        return PermanentKubeError(text, status=status, reason=reason)
    if isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)):
        return ClusterUnavailable(f"Kubernetes API unreachable: {type(exc).__name__}: {exc}")
    return exc


class _wait_for_server:
    """Retry-After when the server sent one, else exponential backoff with full jitter."""

    def __init__(self):
        self._jitter = wait_random_exponential(multiplier=0.1, max=settings.PODS_KUBE_BACKOFF_MAX)

    def __call__(self, retry_state):
        exc = retry_state.outcome.exception()
        if isinstance(exc, TransientKubeError) and exc.retry_after is not None:
            return min(exc.retry_after, settings.PODS_KUBE_BACKOFF_MAX)
        return self._jitter(retry_state)


def call(fn, *args, attempts: int | None = None, **kwargs):
    """Call a client method with our timeout, translated errors and the retry policy."""
    kwargs.setdefault("_request_timeout", settings.PODS_KUBE_REQUEST_TIMEOUT)
    retrying = Retrying(
        retry=retry_if_exception_type(TransientKubeError),
        stop=stop_after_attempt(attempts or settings.PODS_KUBE_ATTEMPTS),
        wait=_wait_for_server(),
        reraise=True,
        before_sleep=lambda rs: logger.warning("Kubernetes call %s failed (%s); retrying",
                                               getattr(fn, "__name__", fn), rs.outcome.exception()),
    )
    for attempt in retrying:
        with attempt:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - translated, re-raised
                translated = translate(exc)
                if translated is exc:
                    raise
                raise translated from exc
