"""Heartbeats: every worker and beat process says "alive" in Redis every few seconds.

``/healthcheck`` reads them (and an operator can: ``redis-cli keys 'pods:heartbeat:*'``), so a
dead worker or beat shows there, not only as pods that stop converging. Each key expires after
``PODS_HEARTBEAT_TTL`` seconds, so a process killed with SIGKILL disappears on its own; a clean
shutdown deletes its key at once. A heartbeat is written by a daemon thread of the process's
main (consumer) side, so it also stops when that process hangs on the GIL or is stopped.
"""
import json
import logging
import os
import socket
import threading
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


def _client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _key(component: str, name: str) -> str:
    return f"{settings.PODS_REDIS_PREFIX}:heartbeat:{component}:{name}"


class Heartbeat:
    """A daemon thread writing one process's heartbeat every ``PODS_HEARTBEAT_SECONDS``."""

    def __init__(self, component: str, name: str, detail: dict | None = None):
        self.component, self.name, self.detail = component, name, detail or {}
        self._stop = threading.Event()
        self._thread = None

    def beat_once(self) -> bool:
        body = {"at": time.time(), "pid": os.getpid(), "host": socket.gethostname(), **self.detail}
        try:
            _client().set(_key(self.component, self.name), json.dumps(body),
                          ex=max(1, int(settings.PODS_HEARTBEAT_TTL)))
            return True
        except redis.RedisError as exc:
            logger.debug("heartbeat %s/%s not written: %s", self.component, self.name, exc)
            return False

    def _run(self):
        while not self._stop.is_set():
            self.beat_once()
            self._stop.wait(settings.PODS_HEARTBEAT_SECONDS)

    def start(self) -> "Heartbeat":
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.component}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            _client().delete(_key(self.component, self.name))
        except redis.RedisError:
            pass


def alive(client=None) -> dict:
    """``{component: [{"name", "age", ...}]}`` of every live heartbeat."""
    client = client or _client()
    now, found = time.time(), {}
    prefix = f"{settings.PODS_REDIS_PREFIX}:heartbeat:"
    keys = list(client.scan_iter(f"{prefix}*", count=200))
    values = client.mget(keys) if keys else []
    for key, raw in zip(keys, values):
        if raw is None:
            continue
        component, _, name = key.decode()[len(prefix):].partition(":")
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        found.setdefault(component, []).append(
            {"name": name, "age": round(max(0.0, now - float(body.get("at", now))), 1),
             **{k: v for k, v in body.items() if k in ("queues", "pid", "host")}})
    for entries in found.values():
        entries.sort(key=lambda e: e["name"])
    return found


_running: dict[str, Heartbeat] = {}


def _on_worker_ready(sender=None, **_):
    consumer = getattr(sender, "consumer", None) or sender
    queues = sorted(q.name for q in getattr(getattr(consumer, "task_consumer", None), "queues", []) or [])
    if not queues:
        try:
            queues = sorted(consumer.app.amqp.queues.consume_from)
        except AttributeError:
            queues = []
    name = getattr(sender, "hostname", None) or f"{socket.gethostname()}-{os.getpid()}"
    _running["worker"] = Heartbeat("worker", name, {"queues": queues}).start()


def _on_worker_shutdown(**_):
    hb = _running.pop("worker", None)
    if hb:
        hb.stop()


def _on_beat_init(sender=None, **_):
    _running["beat"] = Heartbeat("beat", f"{socket.gethostname()}-{os.getpid()}").start()


def connect_signals() -> None:
    """Called once from the app's ready(): only Celery processes ever send these signals."""
    from celery import signals

    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="pods-heartbeat-worker")
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False, dispatch_uid="pods-heartbeat-worker-stop")
    signals.beat_init.connect(_on_beat_init, weak=False, dispatch_uid="pods-heartbeat-beat")
