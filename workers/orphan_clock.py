"""When the sweep first saw each orphan candidate, on our clock (a Redis hash)."""
from datetime import datetime

import redis
from django.conf import settings


def observe(candidates: dict, now: datetime) -> dict:
    """Record ``now`` for new candidates, forget ones no longer orphaned; returns first-seen times.

    Costs nothing while there are no candidates and nothing is remembered. If Redis is
    unavailable every candidate counts as first seen now, so nothing is deleted early.
    """
    try:
        key = f"{settings.PODS_REDIS_PREFIX}:orphans:first-seen"
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        known = {k.decode(): datetime.fromisoformat(v.decode()) for k, v in client.hgetall(key).items()}
        seen = {uid: known.get(uid, now) for uid in candidates}
        if set(known) != set(seen):
            with client.pipeline() as pipe:
                pipe.delete(key)
                if seen:
                    pipe.hset(key, mapping={uid: ts.isoformat() for uid, ts in seen.items()})
                pipe.execute()
        return seen
    except redis.RedisError:
        return {uid: now for uid in candidates}
