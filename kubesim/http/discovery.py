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

from ..resources import RESOURCES
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


def api_resources() -> dict:
    """``/api/v1``: APIResourceList including subresources."""
    resources = []
    for res in RESOURCES.values():
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
    return {"kind": "APIResourceList", "groupVersion": "v1", "resources": resources}


def _openapi_v3_core() -> dict:
    paths = {}
    params = [{"name": name, "in": "query", "schema": {"type": "string"}}
              for name in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")]
    for res in RESOURCES.values():
        gvk = {"group": "", "version": "v1", "kind": res.kind}
        prefix = "/api/v1/namespaces/{namespace}/" if res.namespaced else "/api/v1/"
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


OPENAPI_V3_CORE = orjson.dumps(_openapi_v3_core())
OPENAPI_V3_HASH = hashlib.sha512(OPENAPI_V3_CORE).hexdigest()[:128].upper()


async def version(request: web.Request) -> web.Response:
    """``/version``."""
    return json_response(VERSION)


async def api_root(request: web.Request) -> web.Response:
    """``/api``."""
    return json_response(api_versions(request))


async def api_v1(request: web.Request) -> web.Response:
    """``/api/v1``."""
    return json_response(api_resources())


async def apis(request: web.Request) -> web.Response:
    """``/apis``: no named groups are served."""
    return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})


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
    return json_response({"paths": {"api/v1": {
        "serverRelativeURL": f"/openapi/v3/api/v1?hash={OPENAPI_V3_HASH}"}}})


async def openapi_v3_core(request: web.Request) -> web.Response:
    """``/openapi/v3/api/v1``."""
    return web.Response(body=OPENAPI_V3_CORE, content_type="application/json",
                        headers={"Cache-Control": "public, immutable",
                                 "Etag": f'"{OPENAPI_V3_HASH}"'})


async def healthz(request: web.Request) -> web.Response:
    """``/healthz``, ``/livez``, ``/readyz``."""
    return web.Response(text="ok", content_type="text/plain")
