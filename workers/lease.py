"""A leader lease in Redis, with expiry and a fencing token: exactly one process acts at a time.

``acquire`` takes a fresh token from a counter (``INCR``: every term of leadership gets a larger
one) and sets the lease key to ``"{token}:{holder}"`` only if no one holds it (``SET NX PX``).
The holder renews it well before it expires; a renewal, a ``fenced`` check or a release succeeds
only while the key still holds *this* term's value (compare-and-set in a Lua script, atomic on
the server), so a paused or partitioned ex-leader whose lease lapsed and was taken over finds
out at its next renewal or fenced check and stops acting. A process that dies simply stops
renewing: the lease expires after ``ttl`` and a waiting process takes over.
"""
import logging
import os
import socket
import uuid

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_HOLDS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""


class Lease:
    """One named lease; ``token`` is the fencing token of the current term (None: not leader)."""

    def __init__(self, name: str, *, ttl: float | None = None, client: redis.Redis | None = None):
        self.ttl = float(ttl if ttl is not None else settings.PODS_LEADER_LEASE_SECONDS)
        self.key = f"{settings.PODS_REDIS_PREFIX}:lease:{name}"
        self.counter = f"{self.key}:token"
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.client = client or redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2,
                                                     socket_connect_timeout=2)
        self.token: int | None = None
        self._value = None
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)
        self._holds = self.client.register_script(_HOLDS)

    @property
    def ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    def acquire(self) -> bool:
        """Become the leader if no one is; True when this process now holds the lease."""
        if self.token is not None:
            return self.renew()
        token = int(self.client.incr(self.counter))
        value = f"{token}:{self.holder}"
        if self.client.set(self.key, value, nx=True, px=self.ttl_ms):
            self.token, self._value = token, value
            logger.info("lease %s: acquired (fencing token %s)", self.key, token)
            return True
        return False

    def renew(self) -> bool:
        """Extend this term; False (and no longer leader) when the lease was lost."""
        if self._value is None:
            return False
        if self._renew(keys=[self.key], args=[self._value, self.ttl_ms]):
            return True
        logger.warning("lease %s: lost (fencing token %s is no longer current)", self.key, self.token)
        self.token = self._value = None
        return False

    def fenced(self) -> bool:
        """True when this term still holds the lease: checked right before acting."""
        return self._value is not None and bool(self._holds(keys=[self.key], args=[self._value]))

    def release(self) -> None:
        """Give the lease up now (a clean stop: the next leader needs not wait for the expiry)."""
        if self._value is not None:
            try:
                self._release(keys=[self.key], args=[self._value])
            except redis.RedisError as exc:
                logger.warning("lease %s: release failed (it expires by itself): %s", self.key, exc)
        self.token = self._value = None

    def current(self) -> dict | None:
        """Who holds the lease now (``token``, ``holder``, ``ttl_ms``), or None."""
        raw = self.client.get(self.key)
        if not raw:
            return None
        token, _, holder = raw.decode().partition(":")
        return {"token": int(token), "holder": holder, "ttl_ms": int(self.client.pttl(self.key))}
