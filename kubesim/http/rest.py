"""``/api/v1/...`` and ``/apis/{group}/{version}/...`` routing and the CRUD verbs.

Paths are parsed by hand because ``/api/v1/namespaces/{name}/status`` (a
namespace subresource) and ``/api/v1/namespaces/{ns}/{resource}`` share a
shape.  The legacy ``.../watch/...`` prefix is accepted too.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

from .. import api, errors
from ..resources import RESOURCES, Resource
from ..selectors import parse_field_selector, parse_label_selector
from ..tables import build_table, wants_table
from .common import dry_run, json_response, media_type, query_bool, query_int, read_body
from .execws import serve_exec
from .listing import list_objects, matching
from .podlog import serve_log
from .watch import serve_watch

FIELD_VALIDATION = ("", "Ignore", "Warn", "Strict")


@dataclass
class Target:
    """What an ``/api/v1`` path addresses."""

    resource: Resource
    namespace: str | None      # None: all namespaces (or cluster-scoped)
    name: str | None = None
    subresource: str = ""
    watch: bool = False


def _not_found_path() -> errors.ApiError:
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})


def parse_path(tail: str, group: str = "", version: str = "v1") -> Target:
    """Interpret the part of the path after ``/api/v1/`` (or ``/apis/{group}/{version}/``)."""
    def lookup(plural: str) -> Resource | None:
        res = RESOURCES.get(plural)
        return res if res is not None and res.group == group and res.version == version \
            else None

    parts = [p for p in tail.split("/") if p]
    watch = False
    if parts and parts[0] == "watch":
        watch, parts = True, parts[1:]
    if not parts:
        raise _not_found_path()
    namespaces = RESOURCES["namespaces"]
    if parts[0] == "namespaces" and len(parts) >= 3 and parts[2] not in namespaces.subresources:
        resource = lookup(parts[2])
        if resource is None or not resource.namespaced or len(parts) > 5 or \
                (len(parts) == 5 and parts[4] not in resource.subresources):
            raise _not_found_path()
        return Target(resource, parts[1], parts[3] if len(parts) > 3 else None,
                      parts[4] if len(parts) > 4 else "", watch)
    resource = lookup(parts[0])
    if resource is None or len(parts) > 3:
        raise _not_found_path()
    sub = parts[2] if len(parts) > 2 else ""
    if sub and sub not in resource.subresources:
        raise _not_found_path()
    return Target(resource, None if resource.namespaced else "",
                  parts[1] if len(parts) > 1 else None, sub, watch)


def _field_validation(request: web.Request) -> str:
    value = request.query.get("fieldValidation", "")
    if value not in FIELD_VALIDATION:
        raise errors.bad_request(f'fieldValidation: Unsupported value: "{value}": supported '
                                 f'values: "Ignore", "Strict", "Warn"')
    return value or "Warn"


def _warning_headers(warnings: list[str]) -> CIMultiDict:
    headers: CIMultiDict = CIMultiDict()
    for text in warnings:
        headers.add("Warning", '299 - "' + text.replace('"', '\\"') + '"')
    return headers


def _object_response(request: web.Request, cluster, resource: Resource, obj: dict,
                     status: int = 200, warnings: list[str] | None = None) -> web.Response:
    if wants_table(request.headers.get("Accept", "")):
        bare = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
        return json_response(build_table(cluster, resource, [bare],
                                         {"resourceVersion": bare["metadata"].get(
                                             "resourceVersion", "")},
                                         request.query.get("includeObject", "Metadata")),
                             status)
    return json_response(obj, status, headers=_warning_headers(warnings) if warnings else None)


SUBRESOURCE_METHODS = {"status": ("GET", "PUT", "PATCH"), "finalize": ("PUT",), "log": ("GET",),
                       "exec": ("GET", "POST")}
COLLECTION_VERBS = {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
ITEM_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


async def handle(request: web.Request, cluster) -> web.StreamResponse:
    """Entry point for every ``/api/v1/...`` and ``/apis/{group}/{version}/...`` request."""
    target = parse_path(request.match_info["tail"], request.match_info.get("group", ""),
                        request.match_info.get("version", "v1"))
    method, res = request.method, target.resource
    if target.subresource:
        if method not in SUBRESOURCE_METHODS[target.subresource] or \
                (method != "GET" and "update" not in res.verbs):
            raise errors.method_not_allowed()
        if target.subresource == "log":
            return await serve_log(request, cluster, target.namespace, target.name)
        if target.subresource == "exec":
            return await serve_exec(request, cluster, target.namespace, target.name)
        return await _item(request, cluster, target)
    verbs = ITEM_VERBS if target.name else COLLECTION_VERBS
    if verbs.get(method) not in res.verbs:
        raise errors.method_not_allowed()
    if target.name is None:
        return await _collection(request, cluster, target)
    return await _item(request, cluster, target)


async def _collection(request: web.Request, cluster, target: Target) -> web.StreamResponse:
    res, ns = target.resource, target.namespace
    if request.method in ("GET", "DELETE"):
        labels = parse_label_selector(request.query.get("labelSelector"))
        fields = parse_field_selector(request.query.get("fieldSelector"))
        fields.check_fields(res.field_index)
        scope = ns if res.namespaced else None
        if request.method == "DELETE":
            return await _delete_collection(request, cluster, res, scope, labels, fields)
        if target.watch or query_bool(request, "watch"):
            return await serve_watch(request, cluster, res, scope, labels, fields)
        return list_objects(request, cluster, res, scope, labels, fields)
    if res.namespaced and ns is None:
        raise errors.method_not_allowed()
    validation, warnings = _field_validation(request), []
    body = await read_body(request)
    obj = api.create(cluster, res, ns or "", body, dry_run(request), validation, warnings)
    return _object_response(request, cluster, res, obj, 201, warnings)


async def _delete_collection(request, cluster, res, scope, labels, fields):
    body = await read_body(request) or {}
    options = _delete_options(request, body)
    deleted = []
    for stored in list(matching(cluster, res, scope, labels, fields)):
        try:
            obj, _ = api.delete(cluster, res, stored.namespace, stored.name, options,
                                dry_run(request, body))
        except errors.ApiError as err:
            if err.code != 404:
                raise
            continue
        deleted.append({k: v for k, v in obj.items() if k not in ("kind", "apiVersion")})
    return json_response({"kind": res.list_kind, "apiVersion": res.api_version,
                          "metadata": {"resourceVersion": str(cluster.store.rv)},
                          "items": deleted})


def _delete_options(request: web.Request, body: dict) -> dict:
    if not isinstance(body, dict):
        raise errors.bad_request("DeleteOptions must be an object")
    options = dict(body)
    grace = query_int(request, "gracePeriodSeconds")
    if grace is not None:
        options["gracePeriodSeconds"] = grace
    policy = request.query.get("propagationPolicy")
    if policy:
        options["propagationPolicy"] = policy
    if options.get("propagationPolicy") not in (None, "Orphan", "Background", "Foreground"):
        raise errors.bad_request(f"propagationPolicy: Unsupported value: "
                                 f"\"{options['propagationPolicy']}\"")
    if query_bool(request, "orphanDependents"):
        options["propagationPolicy"] = "Orphan"
    return options


async def _item(request: web.Request, cluster, target: Target) -> web.StreamResponse:
    res, ns, name = target.resource, target.namespace or "", target.name
    if res.namespaced and target.namespace is None:
        raise _not_found_path()
    method = request.method
    if method == "GET":
        return _object_response(request, cluster, res,
                                {"kind": res.kind, "apiVersion": res.api_version,
                                 **api.get(cluster, res, ns, name)})
    if method in ("PUT", "PATCH"):
        validation, warnings = _field_validation(request), []
        if method == "PUT":
            obj = api.update(cluster, res, ns, name, await read_body(request),
                             target.subresource, dry_run(request), validation, warnings)
        else:
            ctype = media_type(request)
            body = await read_body(request, patch=True)
            obj = api.patch(cluster, res, ns, name, ctype, body, target.subresource,
                            dry_run(request), request.query.get("fieldManager"), validation,
                            warnings)
        return _object_response(request, cluster, res, obj, warnings=warnings)
    body = await read_body(request) or {}
    options = _delete_options(request, body)
    obj, removed = api.delete(cluster, res, ns, name, options, dry_run(request, body))
    if res.delete_returns_object or not removed:
        return json_response(obj)
    return json_response(api.success_status(res, obj))
