"""LIST: selectors, ``limit``/``continue`` pagination, Table output.

Items are joined from each object's cached bytes, so listing 10,000 pods costs
a sort, a selector pass and one ``bytes.join`` (the body is copied once).
"""

from __future__ import annotations

import base64
import binascii

import orjson
from aiohttp import web

from .. import errors
from ..resources import Resource
from ..selectors import FieldSelector, LabelSelector
from ..store import StoredObject
from ..tables import build_table, wants_table
from .common import query_int, raw_response, json_response


def matching(cluster, resource: Resource, namespace: str | None, labels: LabelSelector,
             fields: FieldSelector):
    """Iterate stored objects that satisfy both selectors, in key order."""
    store = cluster.store
    index = resource.field_index
    name = fields.value_of("metadata.name")
    if name is not None and namespace is not None:
        stored = store.get(resource.plural, namespace, name)
        candidates = [stored] if stored is not None else []
    else:
        candidates = store.iter(resource.plural, namespace)
    check_labels = not labels.empty()
    check_fields = not fields.empty()
    for stored in candidates:
        if check_labels and not labels.matches(stored.labels):
            continue
        if check_fields and not fields.matches(stored.fields, index):
            continue
        yield stored


def encode_continue(rv: int, key: str) -> str:
    """Opaque continue token bound to the first page's resourceVersion."""
    return base64.urlsafe_b64encode(orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv,
                                                  "start": key + "\x00"})).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """``(rv, start key)`` from a continue token, or 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        return int(data["rv"]), str(data["start"])
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise errors.bad_request("continue key is not valid: incorrect encoded start "
                                 "resourceVersion (version meta.k8s.io/v1)") from None


def _key(stored: StoredObject) -> str:
    return f"{stored.namespace}/{stored.name}"


def list_objects(request: web.Request, cluster, resource: Resource, namespace: str | None,
                 labels: LabelSelector, fields: FieldSelector) -> web.Response:
    """Serve a LIST request (JSON list or Table)."""
    store = cluster.store
    limit = query_int(request, "limit") or 0
    token = request.query.get("continue") or ""
    rv = store.rv
    start_key = ""
    if token:
        if request.query.get("resourceVersion") not in (None, "", "0"):
            raise errors.bad_request("specifying resource version is not allowed when using "
                                     "continue")
        rv, start_key = decode_continue(token)
        if rv < store.compacted_rv:
            raise errors.gone("The provided continue parameter is too old to display a "
                              "consistent list result. You can start a new list without the "
                              "continue parameter, or use the continue token in this response "
                              "to retrieve the remainder of the results. Continuing with the "
                              "provided token results in an inconsistent list - objects that "
                              "were created, modified, or deleted between the time the first "
                              "chunk was returned and now may show up in the list.")
    items: list[StoredObject] = []
    more = False
    remaining = 0
    for stored in matching(cluster, resource, namespace, labels, fields):
        if start_key and _key(stored) + "\x00" <= start_key:
            continue
        if limit and len(items) >= limit:
            more = True
            remaining += 1
            continue
        items.append(stored)
    meta: dict = {"resourceVersion": str(rv)}
    if more:
        meta["continue"] = encode_continue(rv, _key(items[-1]))
        if labels.empty() and fields.empty():
            meta["remainingItemCount"] = remaining
    accept = request.headers.get("Accept", "")
    if wants_table(accept):
        include = request.query.get("includeObject", "Metadata")
        return json_response(build_table(cluster, resource, (s.obj() for s in items), meta,
                                         include))
    head = (b'{"kind":"' + resource.list_kind.encode() + b'","apiVersion":"'
            + resource.api_version.encode() + b'","metadata":'
            + orjson.dumps(meta) + b',"items":[')
    # One join of every piece: the body is copied once (266 MB at 100,000 pods), not three times.
    parts = [head]
    for stored in items:
        parts += (stored.raw, b",")
    if items:
        parts.pop()
    parts.append(b"]}")
    return raw_response(b"".join(parts))
