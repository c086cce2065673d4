"""WATCH streams: initial ADDED, history replay, live events, BOOKMARKs, 410, timeouts.

A :class:`Watcher` is subscribed to the store and receives every change of its
resource synchronously on the loop thread; it filters, serializes and queues
the line, and the response coroutine drains the queue in batches.  Nothing in
here blocks the loop, so long watches never hold up other requests.
"""

from __future__ import annotations

import asyncio
import collections
import time

import orjson
from aiohttp import web

from .. import errors
from ..errors import ApiError
from ..resources import Resource
from ..selectors import FieldSelector, LabelSelector
from ..store import ADDED, DELETED, MODIFIED, HistoryEntry, StoredObject, with_kind
from ..tables import build_table, wants_table
from .common import JSON, query_bool, query_int
from .listing import matching

MAX_QUEUE = 500_000  # lines; a client this far behind is cut off like a slow watcher


class Watcher:
    """Filters store changes for one watch request and queues encoded lines."""

    def __init__(self, cluster, resource: Resource, namespace: str | None,
                 labels: LabelSelector, fields: FieldSelector, table: bool):
        self.cluster = cluster
        self.resource = resource
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.table = table
        self.lines: collections.deque[bytes] = collections.deque()
        self.wakeup = asyncio.Event()
        self.closed = False

    def _matches(self, stored: StoredObject | None) -> bool:
        if stored is None:
            return False
        if self.namespace is not None and stored.namespace != self.namespace:
            return False
        if not self.labels.empty() and not self.labels.matches(stored.labels):
            return False
        return self.fields.empty() or self.fields.matches(stored.fields,
                                                          self.resource.field_index)

    def encode(self, type_: str, stored: StoredObject) -> bytes:
        """One watch line."""
        if self.table:
            obj = build_table(self.cluster, self.resource, [stored.obj()],
                              {"resourceVersion": str(stored.rv)})
            body = orjson.dumps(obj)
        else:
            body = with_kind(self.resource, stored.raw)
        return b'{"type":"' + type_.encode() + b'","object":' + body + b"}\n"

    def push(self, line: bytes) -> None:
        """Queue a line for the client."""
        if self.closed:
            return
        self.lines.append(line)
        if len(self.lines) > MAX_QUEUE:
            self.close()
        self.wakeup.set()

    def deliver(self, entry: HistoryEntry) -> None:
        """Store callback: translate a change, honouring selector transitions."""
        new_match = self._matches(entry.new)
        if entry.type == MODIFIED:
            old_match = self._matches(entry.old)
            if old_match and new_match:
                self.push(self.encode(MODIFIED, entry.new))
            elif old_match:
                self.push(self.encode(DELETED, entry.new))
            elif new_match:
                self.push(self.encode(ADDED, entry.new))
        elif new_match:
            self.push(self.encode(entry.type, entry.new))

    def bookmark(self, rv: int, initial_end: bool = False) -> None:
        """Queue a BOOKMARK carrying only the resourceVersion."""
        meta: dict = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": self.resource.kind, "apiVersion": self.resource.api_version,
               "metadata": meta}
        self.push(orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n")

    def close(self) -> None:
        """End the stream (reset, overflow)."""
        self.closed = True
        self.wakeup.set()


def error_line(err: ApiError) -> bytes:
    """A watch ``ERROR`` event carrying a Status."""
    return orjson.dumps({"type": "ERROR", "object": err.status()}) + b"\n"


async def stream_error(request: web.Request, err: ApiError) -> web.StreamResponse:
    """Answer a watch with a single ERROR event (how kube-apiserver reports 410)."""
    resp = web.StreamResponse(status=200, headers={"Content-Type": JSON})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    await resp.write(error_line(err))
    await resp.write_eof()
    return resp


async def serve_watch(request: web.Request, cluster, resource: Resource, namespace: str | None,
                      labels: LabelSelector, fields: FieldSelector) -> web.StreamResponse:
    """Serve ``?watch=true`` on a collection."""
    store = cluster.store
    rv_param = request.query.get("resourceVersion") or ""
    bookmarks = query_bool(request, "allowWatchBookmarks")
    initial_events = query_bool(request, "sendInitialEvents")
    timeout = query_int(request, "timeoutSeconds")
    watcher = Watcher(cluster, resource, namespace, labels, fields,
                      wants_table(request.headers.get("Accept", "")))
    if rv_param in ("", "0") or initial_events:
        # "Get State and Start at Most Recent": synthetic ADDED for what exists now.
        for stored in matching(cluster, resource, namespace, labels, fields):
            watcher.push(watcher.encode(ADDED, stored))
        if initial_events and bookmarks:
            watcher.bookmark(store.rv, initial_end=True)
    else:
        try:
            start = int(rv_param)
        except ValueError:
            raise errors.bad_request(f'invalid resource version: "{rv_param}"') from None
        history = store.history_since(start, resource.plural)
        if history is None:
            return await stream_error(request, errors.gone(
                f"too old resource version: {start} ({store.oldest_rv()})"))
        for entry in history:
            watcher.deliver(entry)
    store.subscribe(resource.plural, watcher)
    resp = web.StreamResponse(status=200, headers={"Content-Type": JSON,
                                                   "Cache-Control": "no-cache, private"})
    resp.enable_chunked_encoding()
    try:
        await resp.prepare(request)
        await _pump(watcher, resp, timeout, bookmarks, cluster, request)
    except ConnectionError:
        pass  # the client went away (Watch.stop() closes the socket abruptly)
    finally:
        store.unsubscribe(resource.plural, watcher)
    return resp


# How often an idle watch looks whether an outage rule (kubesim.faults) should cut it.
OUTAGE_CHECK_SECONDS = 1.0


async def _pump(watcher: Watcher, resp: web.StreamResponse, timeout: int | None,
                bookmarks: bool, cluster, request: web.Request) -> None:
    deadline = time.monotonic() + timeout if timeout else None
    interval = cluster.config.bookmark_interval
    next_bookmark = time.monotonic() + interval
    while True:
        if watcher.lines:
            batch = b"".join(watcher.lines)
            watcher.lines.clear()
            await resp.write(batch)
            continue
        if watcher.closed:
            break
        if cluster.faults.cuts_watch(request.path):
            # An outage: the connection goes away without an end, as with a dead API server.
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("kubesim outage")
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            if bookmarks:
                watcher.bookmark(cluster.store.rv)
                await resp.write(b"".join(watcher.lines))
            break
        if bookmarks and now >= next_bookmark:
            watcher.bookmark(cluster.store.rv)
            next_bookmark = now + interval
            continue
        wait = next_bookmark - now if bookmarks else 3600.0
        if deadline is not None:
            wait = min(wait, deadline - now)
        wait = min(wait, OUTAGE_CHECK_SECONDS)
        watcher.wakeup.clear()
        try:
            await asyncio.wait_for(watcher.wakeup.wait(), max(0.0, wait))
        except asyncio.TimeoutError:
            pass
    await resp.write_eof()
