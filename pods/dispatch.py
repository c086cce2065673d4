"""Sending tasks to the worker from a request, without ever failing or stalling that request.

The web only nudges the worker: the state it changed is already committed, and the periodic sweep
converges every pod whether or not the nudge arrives. So a send here

- never touches the result backend (``ignore_result``: Celery otherwise subscribes to the
  result channel before publishing, and with Redis down that retries for about 20 s and raises a
  ``RuntimeError`` after the commit: the create answered 500 for a pod it had saved);
- publishes with short socket timeouts (``CELERY_BROKER_TRANSPORT_OPTIONS``) and one immediate
  retry, which is what a pooled connection to a restarted Redis needs;
- catches and logs every exception;
- after a failure, skips sends for ``PODS_ENQUEUE_BACKOFF_SECONDS`` (a small circuit breaker), so
  requests during an outage cost nothing extra at all.

With ``PODS_ENQUEUE_IN_BACKGROUND`` (the default), :func:`send_soon` hands the send to one sender
thread per process, so a request answers without waiting for Celery's publish (about 1.5 ms of a
create's 14 ms). The thread starts on first use, drains its queue at exit, and a full queue sends
inline. A nudge lost with its process (killed before the thread sent it) costs what a lost message
always costs: the sweep re-drives the pod after ``PODS_REDRIVE_IDLE_SECONDS``.
"""
import atexit
import logging
import queue
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}
_breaker = {"open_until": 0.0}
_breaker_lock = threading.Lock()


def broker_is_backing_off() -> bool:
    """True while recent sends failed and new ones are skipped."""
    return time.monotonic() < _breaker["open_until"]


def reset_breaker() -> None:
    """Close the breaker (tests; an operator who knows Redis is back)."""
    with _breaker_lock:
        _breaker["open_until"] = 0.0


def send_task(task: str, *args) -> bool:
    """Publish ``task(*args)``; True when the broker took it, False (logged) otherwise."""
    from celery import current_app as app  # the project's app (pods_project/celery.py)

    label = f"{task} for pod {args[0]}" if args else task
    if broker_is_backing_off():
        logger.info("not enqueueing %s: the broker failed moments ago (the sweep will converge it)", label)
        return False
    try:
        app.send_task(task, args=list(args), ignore_result=True, retry=True, retry_policy=_PUBLISH_RETRY)
    except Exception as exc:  # noqa: BLE001 - a request must never fail because Redis is away
        with _breaker_lock:
            _breaker["open_until"] = time.monotonic() + settings.PODS_ENQUEUE_BACKOFF_SECONDS
        logger.warning("could not enqueue %s (the sweep will converge it): %s: %s", label, type(exc).__name__, exc)
        return False
    return True


_outbox: queue.Queue = queue.Queue(maxsize=10_000)
_sender: dict = {"thread": None, "pid": None}
_sender_lock = threading.Lock()


def send_soon(task: str, *args) -> None:
    """:func:`send_task` now or, with ``PODS_ENQUEUE_IN_BACKGROUND``, from the sender thread."""
    if not settings.PODS_ENQUEUE_IN_BACKGROUND:
        send_task(task, *args)
        return
    _ensure_sender()
    try:
        _outbox.put_nowait((task, args))
    except queue.Full:  # the broker is slower than the requests: send on the request, as before
        send_task(task, *args)


def _ensure_sender() -> None:
    import os

    if _sender["thread"] is not None and _sender["pid"] == os.getpid() and _sender["thread"].is_alive():
        return
    with _sender_lock:
        if _sender["thread"] is None or _sender["pid"] != os.getpid() or not _sender["thread"].is_alive():
            thread = threading.Thread(target=_send_forever, name="pods-enqueue", daemon=True)
            _sender.update(thread=thread, pid=os.getpid())
            thread.start()


def _send_forever() -> None:
    while True:
        task, args = _outbox.get()
        try:
            send_task(task, *args)  # never raises
        finally:
            _outbox.task_done()


def flush(timeout: float = 5.0) -> bool:
    """Wait until every queued send went out (tests; at exit). True when the queue drained."""
    deadline = time.monotonic() + timeout
    while _outbox.unfinished_tasks:
        if time.monotonic() > deadline or _sender["thread"] is None or not _sender["thread"].is_alive():
            return False
        time.sleep(0.005)
    return True


atexit.register(flush, 2.0)
