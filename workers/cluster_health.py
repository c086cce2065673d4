"""Whether the cluster answered the last sweep, kept in Redis for the healthcheck and operators."""
import json
import logging

import redis
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


def _key():
    return f"{settings.PODS_REDIS_PREFIX}:cluster-health"


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def record(*, ok: bool, error: str = "") -> None:
    """Store the outcome of a sweep's cluster reads; ``since`` keeps the start of an outage."""
    now = timezone.now().isoformat()
    try:
        client = _redis()
        previous = read(client)
        since = previous.get("since") if previous and previous.get("reachable") == ok else now
        client.set(_key(), json.dumps({"reachable": ok, "since": since, "checked_at": now, "error": error[:500]}),
                   ex=3600)
    except redis.RedisError as exc:
        logger.warning("could not record cluster health: %s", exc)


def read(client=None) -> dict | None:
    """The last recorded state, or None when no sweep has run recently."""
    raw = (client or _redis()).get(_key())
    return json.loads(raw) if raw else None
