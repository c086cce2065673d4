"""Request journal: what clients asked for, for assertions in tests."""

from __future__ import annotations

import collections
import itertools

BODY_LIMIT = 65536


class Journal:
    """A bounded log of API requests (control-API calls are not recorded)."""

    def __init__(self, size: int = 50_000):
        self.entries: collections.deque[dict] = collections.deque(maxlen=size)
        self._seq = itertools.count(1)

    def record(self, *, method: str, path: str, query: dict, query_string: str, status: int,
               time: str, content_type: str, body: bytes, user_agent: str,
               fault: int | None, duration: float, access: dict | None = None) -> None:
        """Append one request (``access``: its user, RBAC attributes and decision)."""
        text = body[:BODY_LIMIT].decode("utf-8", "replace") if body else ""
        self.entries.append({
            "seq": next(self._seq), "method": method, "path": path, "query": query,
            "query_string": query_string, "status": status, "time": time,
            "content_type": content_type, "body": text, "user_agent": user_agent,
            "fault": fault, "duration": round(duration, 6), "access": access})

    def list(self, since: int = 0) -> list[dict]:
        """Entries with ``seq > since`` (oldest first)."""
        return [dict(e) for e in self.entries if e["seq"] > since]

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()
