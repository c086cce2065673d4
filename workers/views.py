"""The worker side's read-only HTTP views: health (database, Redis, and the cluster as the sweep
last saw it) and the proxy configuration Traefik polls."""
import hmac
import json
import logging

from datetime import datetime

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.envelope import Envelope
from workers import cluster_health, heartbeat
from workers.traefik import cached_config

logger = logging.getLogger(__name__)


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


HEALTH_CHECKS = {"database": _check_database, "redis": _check_redis}


def _cluster_state():
    """The cluster as last observed by the sweep or the watcher, whichever wrote last; an
    observation older than ``PODS_CLUSTER_HEALTH_STALE_SECONDS`` says nothing about now."""
    try:
        state = cluster_health.read()
    except redis.RedisError:
        return "unknown"
    if state is None:
        return "unknown (no recent sweep)"
    age = (timezone.now() - datetime.fromisoformat(state["checked_at"])).total_seconds()
    if age > settings.PODS_CLUSTER_HEALTH_STALE_SECONDS:
        seen = "reachable" if state["reachable"] else "unreachable"
        return f"unknown (last observed {age:.0f} s ago, {seen}: no sweep since)"
    return "reachable" if state["reachable"] else f"unreachable since {state['since']}: {state['error']}"


def _processes():
    """Live worker and beat processes by their heartbeats."""
    try:
        beats = heartbeat.alive()
    except redis.RedisError:
        return {"workers": "unknown", "beat": "unknown"}
    workers = beats.get("worker", [])
    return {
        "workers": {"alive": len(workers), "processes": workers} if workers else "none alive",
        "beat": {"alive": len(beats.get("beat", [])), "processes": beats["beat"]} if beats.get("beat") else "none alive",
    }


class HealthcheckView(APIView):
    """Liveness and readiness: answers 200 only when Postgres and Redis both answer.

    ``metadata`` also says what the service's background side looks like: the cluster as last
    observed (stale → unknown), and the worker and beat processes alive by their heartbeats.
    Those are reported, not failed on: the API keeps working while they are away."""

    authentication_classes = []
    permission_classes = []

    @extend_schema(
        operation_id="healthcheck",
        responses=inline_serializer("Health", {"database": serializers.CharField(),
                                               "redis": serializers.CharField()}),
    )
    def get(self, request):
        results, failed = {}, []
        for name, check in HEALTH_CHECKS.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
                logger.warning("healthcheck: %s is not answering: %s", name, exc)
                results[name] = "unavailable"
                failed.append(name)
        # What the last sweep saw of the cluster: informative, not a reason to fail, since the
        # API keeps working (and every pod keeps its state) while the cluster is away.
        metadata = {"kubernetes": _cluster_state() if "redis" not in failed else "unknown",
                    **(_processes() if "redis" not in failed else {"workers": "unknown", "beat": "unknown"})}
        if failed:
            return Response(
                Envelope(results, f"Unhealthy: {', '.join(failed)} not answering.", metadata, status="error"),
                status=503,
            )
        return Response(Envelope(results, "The service is healthy.", metadata))


TRAEFIK_TOKEN_HEADER = "X-Pods-Traefik-Config-Token"


def _traefik_token_sent(request) -> str:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get(TRAEFIK_TOKEN_HEADER, "")


def traefik_config(request):
    """Traefik's HTTP provider endpoint: raw JSON (no envelope), as upstream serves it.

    It lists every running pod of every tenant, so with ``PODS_TRAEFIK_CONFIG_TOKEN`` set it
    answers only requests sending that shared secret (``X-Pods-Traefik-Config-Token``, which
    Traefik's HTTP provider sends through its ``headers`` option, or ``Authorization: Bearer``);
    anything else is a 403 that lists nothing.

    Rendered once per change and served with an ``ETag``; a poll sending it back in
    ``If-None-Match`` gets ``304 Not Modified`` with no body.
    """
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    token = settings.PODS_TRAEFIK_CONFIG_TOKEN
    if token and not hmac.compare_digest(_traefik_token_sent(request).encode(), token.encode()):
        return HttpResponse(json.dumps({"message": "The proxy configuration needs the shared secret of "
                                                   f"PODS_TRAEFIK_CONFIG_TOKEN (header {TRAEFIK_TOKEN_HEADER}, "
                                                   "or Authorization: Bearer)."}),
                            status=403, content_type="application/json")
    etag, body = cached_config()
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in _etags(request.headers.get("If-None-Match", "")):
        return HttpResponse(status=304, headers=headers)
    return HttpResponse(body, content_type="application/json", headers=headers)


def _etags(header: str) -> set:
    """The entity tags of an ``If-None-Match`` header (``*`` matches any; weak ones compare too)."""
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
    if "*" in tags:
        etag, _ = cached_config()
        tags.add(etag)
    return tags
