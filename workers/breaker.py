"""A circuit breaker kept in Redis, shared by every worker process: stop calling an API that is
down, and try again after a growing pause.

Closed: calls go through. After a failure the breaker opens for ``base`` seconds, doubling with
each consecutive failure up to ``maximum``; when the pause is over, the next caller is let
through as a probe: success closes the breaker, failure opens it again for longer. If Redis
itself cannot be read, the breaker counts as closed (the caller's own error handling applies).
"""
import json
import logging
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, *, base: float, maximum: float):
        self.name, self.base, self.maximum = name, base, maximum

    @property
    def _key(self) -> str:
        return f"{settings.PODS_REDIS_PREFIX}:breaker:{self.name}"

    @staticmethod
    def _client():
        return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)

    def state(self) -> dict:
        try:
            raw = self._client().get(self._key)
        except redis.RedisError:
            return {}
        return json.loads(raw) if raw else {}

    def is_open(self) -> bool:
        """True while calls should be skipped."""
        return time.time() < float(self.state().get("open_until", 0))

    def failure(self, error: str) -> float:
        """Record a failed call; returns the pause (seconds) before the next try."""
        failures = int(self.state().get("failures", 0)) + 1
        pause = min(self.maximum, self.base * 2 ** (failures - 1))
        body = {"failures": failures, "open_until": time.time() + pause, "error": error[:300]}
        try:
            self._client().set(self._key, json.dumps(body), ex=int(self.maximum * 4) + 60)
        except redis.RedisError:
            pass
        logger.warning("%s: circuit open for %.0f s after %d failure(s): %s", self.name, pause, failures, error)
        return pause

    def success(self) -> None:
        """A call went through: close the breaker."""
        try:
            client = self._client()
            if client.exists(self._key):
                client.delete(self._key)
                logger.info("%s: circuit closed, the API answers again", self.name)
        except redis.RedisError:
            pass


def log_breaker() -> Breaker:
    """The breaker of log collection (reads of container logs)."""
    return Breaker("collect_logs", base=settings.PODS_LOG_COLLECT_SECONDS, maximum=settings.PODS_LOG_BREAKER_MAX_SECONDS)
