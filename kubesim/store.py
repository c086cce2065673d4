"""In-memory object store: an etcd-like keyspace with a global resourceVersion.

Objects are kept as immutable :class:`StoredObject` snapshots holding the
serialized JSON (without ``kind``/``apiVersion``, which real list items omit),
the labels and the selectable-field tuple.  Reads decode a fresh dict, so no
caller can mutate stored state by accident, and a list response is a join of
cached bytes - that is what makes 10,000-pod lists fast.

Every write bumps the global counter and is appended to a bounded history
that watches replay from; entries older than the window are compacted away
and a watch asking for them gets ``410 Expired``.
"""

from __future__ import annotations

import bisect
from typing import Iterator, Protocol

import orjson

from .resources import RESOURCES, Resource

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
_EMPTY: dict = {}


class StoredObject:
    """One version of one object (immutable once created)."""

    __slots__ = ("raw", "labels", "fields", "rv", "name", "namespace")

    def __init__(self, raw: bytes, labels: dict, fields: tuple, rv: int, name: str,
                 namespace: str):
        self.raw = raw
        self.labels = labels
        self.fields = fields
        self.rv = rv
        self.name = name
        self.namespace = namespace

    def obj(self) -> dict:
        """A fresh, mutable dict of this object (no ``kind``/``apiVersion``)."""
        return orjson.loads(self.raw)


class HistoryEntry:
    """One change in the watch history."""

    __slots__ = ("rv", "plural", "type", "new", "old")

    def __init__(self, rv: int, plural: str, type_: str, new: StoredObject,
                 old: StoredObject | None):
        self.rv = rv
        self.plural = plural
        self.type = type_
        self.new = new
        self.old = old


class Subscriber(Protocol):
    """Anything that wants live history entries (watch streams)."""

    def deliver(self, entry: HistoryEntry) -> None: ...

    def close(self) -> None: ...


def type_prefix(resource: Resource) -> bytes:
    """``{"kind":"Pod","apiVersion":"v1",`` - prepended to raw bytes for single objects."""
    return (b'{"kind":"' + resource.kind.encode() + b'","apiVersion":"'
            + resource.api_version.encode() + b'",')


def with_kind(resource: Resource, raw: bytes) -> bytes:
    """Serialized object including ``kind`` and ``apiVersion``."""
    return type_prefix(resource) + raw[1:]


class Store:
    """The keyspace, resourceVersion counter, watch history and subscribers."""

    def __init__(self, history_size: int = 100_000):
        self.history_size = max(100, int(history_size))
        self.rv = 0
        self.compacted_rv = 0
        self._data: dict[str, dict[str, dict[str, StoredObject]]] = {p: {} for p in RESOURCES}
        self._history: list[HistoryEntry] = []
        self._subscribers: dict[str, set[Subscriber]] = {p: set() for p in RESOURCES}

    # -- reads -------------------------------------------------------------
    def get(self, plural: str, namespace: str, name: str) -> StoredObject | None:
        """Current snapshot of one object, or ``None``."""
        return self._data[plural].get(namespace, _EMPTY).get(name)

    def iter(self, plural: str, namespace: str | None = None) -> Iterator[StoredObject]:
        """Objects in key order (namespace, name), like etcd range reads."""
        buckets = self._data[plural]
        if namespace is not None:
            bucket = buckets.get(namespace, _EMPTY)
            for name in sorted(bucket):
                yield bucket[name]
            return
        for ns in sorted(buckets):
            bucket = buckets[ns]
            for name in sorted(bucket):
                yield bucket[name]

    def count(self, plural: str, namespace: str | None = None) -> int:
        """Number of objects of a resource (optionally in one namespace)."""
        buckets = self._data[plural]
        if namespace is not None:
            return len(buckets.get(namespace, _EMPTY))
        return sum(len(b) for b in buckets.values())

    # -- writes ------------------------------------------------------------
    def snapshot(self, resource: Resource, obj: dict, rv: int) -> StoredObject:
        """Serialize ``obj`` (after stamping ``rv``) into an immutable snapshot."""
        meta = obj["metadata"]
        meta["resourceVersion"] = str(rv)
        obj.pop("kind", None)
        obj.pop("apiVersion", None)
        labels = meta.get("labels") or _EMPTY
        # orjson returns bytes with a large spare capacity (8 KiB for a 1.5 KiB pod);
        # copying through a memoryview keeps only the exact size - 3x less memory.
        raw = bytes(memoryview(orjson.dumps(obj)))
        return StoredObject(raw, dict(labels) if labels else _EMPTY,
                            resource.extract(obj), rv, meta["name"], meta.get("namespace", ""))

    def put(self, resource: Resource, obj: dict) -> StoredObject:
        """Create or replace ``obj``; bumps the resourceVersion and records history."""
        self.rv += 1
        new = self.snapshot(resource, obj, self.rv)
        bucket = self._data[resource.plural].setdefault(new.namespace, {})
        old = bucket.get(new.name)
        if old is not None and old.labels == new.labels:
            new.labels = old.labels  # versions share an unchanged labels dict
        bucket[new.name] = new
        self._record(HistoryEntry(self.rv, resource.plural, MODIFIED if old else ADDED, new, old))
        return new

    def remove(self, resource: Resource, obj: dict) -> StoredObject:
        """Delete ``obj``; the DELETED event carries its final state with a new RV."""
        self.rv += 1
        final = self.snapshot(resource, obj, self.rv)
        bucket = self._data[resource.plural].get(final.namespace, {})
        old = bucket.pop(final.name, None)
        if not bucket:
            self._data[resource.plural].pop(final.namespace, None)
        self._record(HistoryEntry(self.rv, resource.plural, DELETED, final, old))
        return final

    def _record(self, entry: HistoryEntry) -> None:
        self._history.append(entry)
        if len(self._history) > self.history_size * 5 // 4:
            drop = len(self._history) - self.history_size
            self.compacted_rv = self._history[drop - 1].rv
            del self._history[:drop]
        for sub in list(self._subscribers[entry.plural]):
            sub.deliver(entry)

    # -- history / watch ---------------------------------------------------
    def history_since(self, rv: int, plural: str) -> list[HistoryEntry] | None:
        """Entries of ``plural`` with resourceVersion > ``rv``; ``None`` if compacted."""
        if rv < self.compacted_rv:
            return None
        start = bisect.bisect_right(self._history, rv, key=lambda e: e.rv)
        return [e for e in self._history[start:] if e.plural == plural]

    def oldest_rv(self) -> int:
        """Oldest resourceVersion still replayable (for the 410 message)."""
        return self.compacted_rv + 1

    def subscribe(self, plural: str, sub: Subscriber) -> None:
        """Receive future entries for ``plural``."""
        self._subscribers[plural].add(sub)

    def unsubscribe(self, plural: str, sub: Subscriber) -> None:
        """Stop receiving entries."""
        self._subscribers[plural].discard(sub)

    def clear(self) -> None:
        """Drop every object and the history; close all watches (resourceVersion keeps going)."""
        for plural in self._data:
            self._data[plural] = {}
        self._history.clear()
        # Nothing written before the reset can be replayed, not even from the current RV.
        self.rv += 1
        self.compacted_rv = self.rv
        for subs in self._subscribers.values():
            for sub in list(subs):
                sub.close()
            subs.clear()
