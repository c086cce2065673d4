"""``GET /metrics``: the Prometheus scrape of the whole service.

Recorded metrics (core.metrics) come from every process: with ``PROMETHEUS_MULTIPROC_DIR`` set
they are read from that directory, where web, worker, beat and watcher write them. State is read
at scrape time, exactly: pods by tenant and status (one GROUP BY), Celery queue depth (one LLEN
per queue), the cluster's reachability and the last sweep's time (Redis). With
``PODS_METRICS_TOKEN`` set, the scrape must send ``Authorization: Bearer <token>``.
"""
import hmac
import logging
import os
from datetime import datetime

import redis
from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pods.choices import PodStatus
from pods.models import Pod
from workers import cluster_health

logger = logging.getLogger(__name__)


class StateCollector:
    """Gauges computed from the database and Redis at each scrape."""

    def collect(self):
        pods = GaugeMetricFamily("pods_pods", "Pods by tenant and status.", labels=["tenant", "status"])
        counts = {}
        for row in Pod.objects.order_by().values("tenant__tenant_id", "status").annotate(n=Count("pk")):
            counts[(row["tenant__tenant_id"], row["status"])] = row["n"]
        for tenant in sorted({t for t, _ in counts}):
            for status in PodStatus.values:
                pods.add_metric([tenant, status], counts.get((tenant, status), 0))
        yield pods

        queue = GaugeMetricFamily("pods_celery_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"])
        health = None
        try:
            client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
            for name in celery_queues():
                queue.add_metric([name], client.llen(name))
            health = cluster_health.read()
        except redis.RedisError as exc:
            logger.warning("metrics: Redis unreachable: %s", exc)
        yield queue

        reachable = GaugeMetricFamily("pods_cluster_reachable",
                                      "1 when the last sweep reached the Kubernetes API, 0 when it did not.")
        last = GaugeMetricFamily("pods_last_sweep_timestamp_seconds",
                                 "Unix time of the last sweep's cluster check.")
        if health:
            reachable.add_metric([], 1 if health.get("reachable") else 0)
            last.add_metric([], datetime.fromisoformat(health["checked_at"]).timestamp())
        yield reachable
        yield last


def celery_queues() -> list[str]:
    """The queues the workers consume (the default one, plus any the routing settings name)."""
    names = [settings.CELERY_TASK_DEFAULT_QUEUE]
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or ():
        name = getattr(queue, "name", queue)
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


_state_registry = CollectorRegistry(auto_describe=False)
_state_registry.register(StateCollector())


def metrics(request):
    token = settings.PODS_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("A valid 'Authorization: Bearer <PODS_METRICS_TOKEN>' header is required.\n",
                                status=401, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        recorded = generate_latest(registry)
    else:
        recorded = generate_latest(REGISTRY)
    return HttpResponse(recorded + generate_latest(_state_registry), content_type=CONTENT_TYPE_LATEST)
