"""What the admin's index shows an operator at a glance (the console's dashboard).

Bounded work per page view: two GROUP BY queries, two short lists, one Redis read for cluster
health, one LLEN per queue, and a Celery ping (at most once per ``PING_CACHE_SECONDS``, waiting at
most ``PING_TIMEOUT``), so the page stays fast with any number of pods.
"""
import logging

import redis
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pods.choices import PodStatus
from pods.models import Pod
from workers import cluster_health
from workers.metrics_view import celery_queues

logger = logging.getLogger(__name__)
STARTING = (PodStatus.REQUESTED, PodStatus.SPAWNER_SETUP, PodStatus.CREATING)
PING_TIMEOUT = 0.5
PING_CACHE_SECONDS = 10
REFRESH_SECONDS = 15


def overview() -> dict:
    statuses = list(PodStatus.values)
    totals = {s: 0 for s in statuses}
    per_tenant = {}
    for row in Pod.objects.order_by().values("tenant_id", "tenant__tenant_id", "status").annotate(n=Count("pk")):
        totals[row["status"]] += row["n"]
        key = (row["tenant__tenant_id"], row["tenant_id"])
        per_tenant.setdefault(key, {s: 0 for s in statuses})[row["status"]] = row["n"]
    now = timezone.now()
    starting = list(Pod.objects.filter(status__in=STARTING).select_related("tenant")
                    .order_by("status_changed_at")[:10])
    failures = list(Pod.objects.filter(status=PodStatus.ERROR).select_related("tenant")
                    .order_by("-status_changed_at")[:10])
    for pod in (*starting, *failures):
        container = pod.status_container or {}
        pod.dash_reason = container.get("reason") or ""
        pod.dash_message = (container.get("message") or "").split("\n", 1)[0]
        pod.dash_age = int((now - pod.status_changed_at).total_seconds())
    return {
        "statuses": statuses,
        "totals": [(s, totals[s]) for s in statuses],
        "total": sum(totals.values()),
        "per_tenant": [(tenant, pk, [counts[s] for s in statuses], sum(counts.values()))
                       for (tenant, pk), counts in sorted(per_tenant.items())],
        "starting": starting,
        "failures": failures,
        "cluster": _cluster(now),
        "queues": _queues(),
        "workers": _workers(),
        "refresh_seconds": REFRESH_SECONDS,
        "now": now,
    }


def _cluster(now) -> dict:
    try:
        health = cluster_health.read()
    except redis.RedisError as exc:
        return {"known": False, "error": f"Redis unreachable: {exc}"}
    if not health:
        return {"known": False, "error": "no sweep has recorded the cluster's state in the last hour"}
    checked = parse_datetime(health["checked_at"])
    since = parse_datetime(health["since"]) if health.get("since") else None
    return {"known": True, "reachable": health["reachable"], "checked_at": checked,
            "age": int((now - checked).total_seconds()), "since": since, "error": health.get("error", ""),
            "stale": (now - checked).total_seconds() > 3 * settings.PODS_SWEEP_SECONDS + 10}


def _queues() -> list:
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        return [(name, client.llen(name)) for name in celery_queues()]
    except redis.RedisError as exc:
        logger.warning("dashboard: Redis unreachable: %s", exc)
        return [(name, None) for name in celery_queues()]


def _workers() -> dict:
    """Celery workers answering a ping (cached briefly: a ping waits for its timeout)."""
    key = f"{settings.PODS_REDIS_PREFIX}:dashboard-workers"
    found = cache.get(key)
    if found is None:
        from celery import current_app

        try:
            replies = current_app.control.ping(timeout=PING_TIMEOUT) or []
            found = {"names": sorted(name for reply in replies for name in reply), "error": ""}
        except Exception as exc:  # noqa: BLE001 — a broker problem is shown on the page, not raised
            found = {"names": [], "error": str(exc)}
        cache.set(key, found, PING_CACHE_SECONDS)
    return found
