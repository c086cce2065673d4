"""How much spawn and teardown work is waiting in the broker, for the sweep's re-drive.

A starting pod with no Kubernetes pod is normally re-driven after ``PODS_REDRIVE_SECONDS``
(60 s): during a burst its task may simply be queued. But when the spawn queue is *empty*, a pod
still waiting in REQUESTED or SPAWNER SETUP after ``PODS_REDRIVE_IDLE_SECONDS`` has no task that
will ever run: it was lost with a killed worker (held unacknowledged until Redis's visibility
timeout, an hour), with a Redis restarted empty, or never sent because Redis was down. Those are
re-driven at once. A duplicate is harmless: the spawn claims its row with ``SKIP LOCKED`` and
adopts objects of its own instance.
"""
import logging
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)
# kombu's Redis transport keeps priority levels in separate lists: "<queue>" and "<queue>\x06\x16<n>".
_PRIORITY_SUFFIXES = ("", *(f"\x06\x16{n}" for n in (3, 6, 9)))


def spawn_queue_length() -> int | None:
    """Messages waiting in the default (spawn) queue; None when the broker cannot be asked."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        pipe = client.pipeline(transaction=False)
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(queue + suffix)
        return sum(pipe.execute())
    except (redis.RedisError, ValueError) as exc:
        logger.info("spawn queue length unknown: %s", exc)
        return None


def not_nudged_recently(pod_pks, *, within: float) -> list:
    """The pods among ``pod_pks`` the sweep has not sent a task for in the last ``within``
    seconds; they are marked as sent now.

    Every sweep (every few seconds) finds the same stalled pods again; without this it queued one
    more task for each of them per sweep, and after an outage hundreds of duplicates buried the
    spawns that mattered. The sweep passes ``PODS_REDRIVE_IDLE_SECONDS`` when the spawn queue is
    empty (the last nudge was lost too) and ``PODS_REDRIVE_SECONDS`` while it drains. When Redis
    cannot be asked, every pod is sent (the old behaviour).
    """
    pod_pks = list(pod_pks)
    if not pod_pks:
        return []
    now = time.time()
    keys = [f"{settings.PODS_REDIS_PREFIX}:nudged:{pk}" for pk in pod_pks]
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        last = client.mget(keys)
        due = [(pk, key) for pk, key, at in zip(pod_pks, keys, last) if at is None or now - float(at) >= within]
        if due:
            pipe = client.pipeline(transaction=False)
            for _, key in due:
                pipe.set(key, repr(now), ex=max(1, int(settings.PODS_REDRIVE_SECONDS * 2)))
            pipe.execute()
        return [pk for pk, _ in due]
    except (redis.RedisError, ValueError) as exc:
        logger.info("could not check recent nudges: %s", exc)
        return pod_pks
