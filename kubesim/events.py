"""Event recorder: writes core/v1 ``Event`` objects like client-go's recorder.

Identical events (same object, reason, message, type, source) are deduplicated
by bumping ``count`` and ``lastTimestamp`` on the existing Event, as the
client-go EventCorrelator does.  Events expire after ``event_ttl`` virtual
seconds (kube-apiserver ``--event-ttl``, default 1 h).
"""

from __future__ import annotations

import collections
import sys
import uuid
from typing import TYPE_CHECKING

from .clock import format_time, parse_time
from .resources import RESOURCES

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

EVENTS = RESOURCES["events"]


class EventRecorder:
    """Creates and deduplicates Events, and expires them after a TTL."""

    def __init__(self, cluster: "Cluster", ttl: float = 3600.0):
        self.cluster = cluster
        self.ttl = ttl
        self._dedup: dict[tuple, tuple[str, str]] = {}
        self._keys: dict[tuple[str, str], tuple] = {}
        self._expiry: collections.deque = collections.deque()
        self._sweep_timer = None
        self._last_name_ns = 0

    def reset(self) -> None:
        """Forget dedup state (objects are cleared with the store)."""
        self._dedup.clear()
        self._keys.clear()
        self._expiry.clear()
        self._sweep_timer = None

    def _name(self, base: str, now: float) -> str:
        # client-go names events "<object>.<unix nanos in hex>"; keep them unique.
        nanos = max(int(now * 1e9), self._last_name_ns + 1)
        self._last_name_ns = nanos
        return f"{base}.{nanos:x}"

    def record(self, involved: dict, kind: str, type_: str, reason: str, message: str,
               component: str = "kubelet", field_path: str = "") -> None:
        """Emit (or re-count) an Event about ``involved`` (an object dict)."""
        cluster = self.cluster
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        host = cluster.config.node_name if component == "kubelet" else ""
        key = (meta.get("uid"), field_path, type_, reason, message, component)
        now = cluster.clock.now()
        stamp = format_time(now)
        existing = self._dedup.get(key)
        if existing:
            stored = cluster.store.get("events", existing[0], existing[1])
            if stored is not None:
                event = stored.obj()
                event["count"] = event.get("count", 1) + 1
                event["lastTimestamp"] = stamp
                cluster.persist(EVENTS, event)
                self._expiry.append((now + self.ttl, existing[0], existing[1]))
                return
        involved_ref = {"kind": kind, "namespace": meta.get("namespace", ""),
                        "name": meta["name"], "uid": meta.get("uid", ""), "apiVersion": "v1",
                        "resourceVersion": meta.get("resourceVersion", "")}
        if field_path:
            involved_ref["fieldPath"] = field_path
        name = self._name(meta["name"], now)
        source = {"component": sys.intern(component)}
        if host:
            source["host"] = host
        event = {
            "metadata": {"name": name, "namespace": namespace,
                         "uid": str(uuid.UUID(int=cluster.rng.getrandbits(128), version=4)),
                         "creationTimestamp": stamp},
            "involvedObject": involved_ref, "reason": reason, "message": message,
            "source": source, "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
            "type": type_, "eventTime": None, "reportingComponent": component,
            "reportingInstance": host or component,
        }
        cluster.persist(EVENTS, event)
        self._dedup[key] = (namespace, name)
        self._keys[(namespace, name)] = key
        self._expiry.append((now + self.ttl, namespace, name))
        self._schedule_sweep()

    def _schedule_sweep(self) -> None:
        if self._sweep_timer is None and self._expiry:
            self._sweep_timer = self.cluster.clock.call_at(self._expiry[0][0], self._sweep)

    def _sweep(self) -> None:
        self._sweep_timer = None
        cluster = self.cluster
        now = cluster.clock.now()
        while self._expiry and self._expiry[0][0] <= now:
            _, namespace, name = self._expiry.popleft()
            stored = cluster.store.get("events", namespace, name)
            if stored is None:
                continue
            event = stored.obj()
            last = event.get("lastTimestamp") or event["metadata"]["creationTimestamp"]
            if parse_time(last) + self.ttl > now:
                continue  # re-counted since; a later expiry entry covers it
            cluster.remove(EVENTS, event)
            key = self._keys.pop((namespace, name), None)
            if key is not None:
                self._dedup.pop(key, None)
        self._schedule_sweep()
