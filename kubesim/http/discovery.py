"""Discovery and OpenAPI documents that kubectl and dynamic clients fetch.

kubectl (default ``--validate=strict``) asks ``/openapi/v3`` whether the server
supports the ``fieldValidation`` query parameter for the kind it is sending.
We publish, per resource, the PATCH operation with the GVK extension and the
``fieldValidation`` parameter, so kubectl delegates validation to us (and
sends ``fieldValidation=Strict``).  ``/openapi/v2`` is served too: an empty
protobuf ``Document`` (older kubectls skip client-side validation for kinds
absent from it) or a minimal JSON swagger document.
"""

from __future__ import annotations

import hashlib

import orjson
from aiohttp import web

from ..resources import GROUPS, in_group
from .common import json_response

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-kubesim",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3", "compiler": "gc",
           "platform": "linux/amd64"}


def api_versions(request: web.Request) -> dict:
    """``/api``: the legacy core group."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": request.host}]}


def api_resources(group: str = "", version: str = "v1") -> dict:
    """``/api/v1`` or ``/apis/{group}/{version}``: APIResourceList including subresources."""
    resources = []
    for res in in_group(group, version):
        entry = {"name": res.plural, "singularName": res.singular or res.kind.lower(),
                 "namespaced": res.namespaced, "kind": res.kind, "verbs": list(res.verbs)}
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        entry["storageVersionHash"] = hashlib.sha256(res.plural.encode()).hexdigest()[:11]
        resources.append(entry)
        for sub in res.subresources:
            verbs = {"log": ["get"], "finalize": ["update"], "exec": ["create", "get"]}.get(
                sub, ["get", "patch", "update"])
            kind = {"finalize": "Namespace", "exec": "PodExecOptions"}.get(sub, res.kind)
            resources.append({"name": f"{res.plural}/{sub}", "singularName": "",
                              "namespaced": res.namespaced, "kind": kind, "verbs": verbs})
    if not group:
        return {"kind": "APIResourceList", "groupVersion": "v1", "resources": resources}
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}",
            "resources": resources}


def _openapi_v3(group: str = "", version: str = "v1") -> dict:
    paths = {}
    params = [{"name": name, "in": "query", "schema": {"type": "string"}}
              for name in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")]
    base = f"/apis/{group}/{version}/" if group else "/api/v1/"
    for res in in_group(group, version):
        gvk = {"group": group, "version": version, "kind": res.kind}
        prefix = base + "namespaces/{namespace}/" if res.namespaced else base
        item = {"parameters": params}
        for verb in ("get", "put", "patch", "delete"):
            item[verb] = {"operationId": f"{verb}{res.kind}",
                          "x-kubernetes-action": verb,
                          "x-kubernetes-group-version-kind": gvk,
                          "responses": {"200": {"description": "OK"}}}
        paths[f"{prefix}{res.plural}/{{name}}"] = item
        paths[f"{prefix}{res.plural}"] = {
            "parameters": params,
            "post": {"operationId": f"create{res.kind}", "x-kubernetes-action": "post",
                     "x-kubernetes-group-version-kind": gvk,
                     "responses": {"201": {"description": "Created"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": {}}}


OPENAPI_V3 = {"api/v1": orjson.dumps(_openapi_v3())}
OPENAPI_V3.update({f"apis/{g}/{v}": orjson.dumps(_openapi_v3(g, v))
                   for g, versions in GROUPS.items() for v in versions})
OPENAPI_V3_HASHES = {path: hashlib.sha512(doc).hexdigest()[:128].upper()
                     for path, doc in OPENAPI_V3.items()}


async def version(request: web.Request) -> web.Response:
    """``/version``."""
    return json_response(VERSION)


async def api_root(request: web.Request) -> web.Response:
    """``/api``."""
    return json_response(api_versions(request))


async def api_v1(request: web.Request) -> web.Response:
    """``/api/v1``."""
    return json_response(api_resources())


def _group(name: str) -> dict:
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in GROUPS[name]]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


async def apis(request: web.Request) -> web.Response:
    """``/apis``: the named groups served (``networking.k8s.io``)."""
    return json_response({"kind": "APIGroupList", "apiVersion": "v1",
                          "groups": [_group(g) for g in GROUPS]})


async def api_group(request: web.Request) -> web.Response:
    """``/apis/{group}``."""
    name = request.match_info["group"]
    if name not in GROUPS:
        return _not_found()
    return json_response({"kind": "APIGroup", "apiVersion": "v1", **_group(name)})


async def api_group_version(request: web.Request) -> web.Response:
    """``/apis/{group}/{version}``."""
    name, version = request.match_info["group"], request.match_info["version"]
    if version not in GROUPS.get(name, ()):
        return _not_found()
    return json_response(api_resources(name, version))


def _not_found() -> web.Response:
    return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": "the server could not find the "
                          "requested resource", "reason": "NotFound", "details": {},
                          "code": 404}, status=404)


async def openapi_v2(request: web.Request) -> web.Response:
    """``/openapi/v2`` as (empty) protobuf or minimal JSON."""
    if "protobuf" in request.headers.get("Accept", ""):
        # kube-openapi serves the protobuf document as application/octet-stream.
        return web.Response(body=b"", content_type="application/octet-stream")
    return json_response({"swagger": "2.0", "info": {"title": "Kubernetes",
                                                     "version": VERSION["gitVersion"]},
                          "paths": {}, "definitions": {}})


async def openapi_v3(request: web.Request) -> web.Response:
    """``/openapi/v3`` root listing group-version documents."""
    return json_response({"paths": {
        path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={OPENAPI_V3_HASHES[path]}"}
        for path in OPENAPI_V3}})


async def openapi_v3_doc(request: web.Request) -> web.Response:
    """``/openapi/v3/api/v1`` and ``/openapi/v3/apis/{group}/{version}``."""
    path = request.path[len("/openapi/v3/"):]
    if path not in OPENAPI_V3:
        return _not_found()
    return web.Response(body=OPENAPI_V3[path], content_type="application/json",
                        headers={"Cache-Control": "public, immutable",
                                 "Etag": f'"{OPENAPI_V3_HASHES[path]}"'})


async def healthz(request: web.Request) -> web.Response:
    """``/healthz``, ``/livez``, ``/readyz``."""
    return web.Response(text="ok", content_type="text/plain")
