"""GET /metrics: Prometheus exposition of state read at scrape time and of recorded metrics."""
import re

import pytest
from django.test import Client

from workers import cluster_health

pytestmark = pytest.mark.django_db


def scrape(**headers):
    return Client().get("/metrics", **headers)


def value(body: str, line_start: str) -> float:
    match = re.search(rf"^{re.escape(line_start)} (\S+)$", body, re.M)
    assert match, f"{line_start} not in the scrape"
    return float(match.group(1))


def test_scrape_counts_pods_by_tenant_and_status(make_pod, client_for):
    make_pod("one")
    make_pod("two")
    client_for("alice").get("/v3/pods")  # a request whose latency is recorded by route
    cluster_health.record(ok=True)
    response = scrape()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    assert value(body, 'pods_pods{status="REQUESTED",tenant="dev"}') == 2
    assert value(body, 'pods_pods{status="AVAILABLE",tenant="dev"}') == 0
    assert value(body, "pods_cluster_reachable") == 1
    assert "pods_last_sweep_timestamp_seconds " in body
    assert re.search(r'^pods_celery_queue_length\{queue="pods-test-[0-9a-f]+"\} \d+', body, re.M)
    assert re.search(r'^pods_http_request_seconds_count\{code="200",method="GET",route="v3/pods"\} ', body, re.M)
    assert "pods_spawn_seconds_bucket" in body or "# HELP pods_spawn_seconds" in body


def test_scrape_with_a_token_refuses_requests_without_it(settings):
    settings.PODS_METRICS_TOKEN = "s3cret-scrape-token"
    assert scrape().status_code == 401
    assert scrape(HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert b"s3cret" not in scrape().content
    assert scrape(HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200
