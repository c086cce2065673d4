"""The aiohttp application: routes plus the auth / fault / journal middleware."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from .. import errors, rbac
from ..clock import format_time_nano
from ..errors import ApiError
from ..rbac import control as rbac_control
from . import control, discovery, rest
from .common import error_response, query_bool
from .watch import stream_error

log = logging.getLogger("kubesim")


def _drop(request: web.Request) -> None:
    # Closing the transport and cancelling the handler makes aiohttp abandon the
    # request quietly; the client sees "Remote end closed connection".
    if request.transport is not None:
        request.transport.close()
    raise asyncio.CancelledError()


def _middleware(cluster):
    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.path.startswith("/_kubesim/"):
            return await handler(request)
        started = time.monotonic()
        body = await request.read() if request.can_read_body else b""
        try:
            is_watch = query_bool(request, "watch") or "/watch/" in request.path
        except ApiError:
            is_watch = False
        fault = cluster.faults.take(request.method, request.path, is_watch)
        access = cluster.access.describe(request.method, request.path, request.query,
                                         request.headers.get("Authorization", ""))
        status = 0
        try:
            if fault and fault.latency:
                await asyncio.sleep(fault.latency)
            if fault and fault.drop == "before":
                _drop(request)
            try:
                cluster.access.check(access)  # 401, or 403 outside the RBAC policy
                if fault and fault.status:
                    err = errors.injected(fault.status, fault.message, fault.reason,
                                          fault.retry_after)
                    if is_watch and request.method == "GET":
                        response = await stream_error(request, err)
                        status = response.status
                        return response
                    raise err
                response = await handler(request)
            except ApiError as err:
                response = error_response(err)
            except web.HTTPException:
                raise
            except Exception as exc:  # a bug in kubesim: report it as Kubernetes would
                log.exception("internal error serving %s %s", request.method, request.path)
                response = error_response(errors.internal(repr(exc)))
            status = response.status
            if fault and fault.drop == "after":
                status = 0
                _drop(request)
            return response
        finally:
            cluster.journal.record(
                method=request.method, path=request.path, query=dict(request.query),
                query_string=request.query_string, status=status,
                time=format_time_nano(cluster.clock.now()),
                content_type=request.headers.get("Content-Type", ""), body=body,
                user_agent=request.headers.get("User-Agent", ""),
                fault=fault.id if fault else None, duration=time.monotonic() - started,
                access=access.to_dict())

    return middleware


def create_app(cluster) -> web.Application:
    """Build the aiohttp application serving ``cluster``."""
    # Authentication and RBAC (kubesim.rbac): kept on the cluster, configured at run time.
    cluster.access = rbac.Access(cluster.config)
    app = web.Application(middlewares=[_middleware(cluster)], client_max_size=16 * 1024 * 1024)

    async def api(request: web.Request) -> web.StreamResponse:
        return await rest.handle(request, cluster)

    app.add_routes(control.routes(cluster))
    app.add_routes(rbac_control.routes(cluster))
    app.add_routes([
        web.get("/version", discovery.version),
        web.get("/version/", discovery.version),
        web.get("/api", discovery.api_root),
        web.get("/api/", discovery.api_root),
        web.get("/api/v1", discovery.api_v1),
        web.get("/api/v1/", discovery.api_v1),
        web.get("/apis", discovery.apis),
        web.get("/apis/", discovery.apis),
        web.get("/openapi/v2", discovery.openapi_v2),
        web.get("/openapi/v3", discovery.openapi_v3),
        web.get("/openapi/v3/api/v1", discovery.openapi_v3_doc),
        web.get("/openapi/v3/apis/{group}/{version}", discovery.openapi_v3_doc),
        web.get("/healthz", discovery.healthz),
        web.get("/livez", discovery.healthz),
        web.get("/readyz", discovery.healthz),
        web.route("*", "/api/v1/{tail:.+}", api),
        web.get("/apis/{group}", discovery.api_group),
        web.get("/apis/{group}/", discovery.api_group),
        web.get("/apis/{group}/{version}", discovery.api_group_version),
        web.get("/apis/{group}/{version}/", discovery.api_group_version),
        web.route("*", "/apis/{group}/{version}/{tail:.+}", api),
    ])
    return app
