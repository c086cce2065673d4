"""The admin's pod changelist counts a large table by Postgres' estimate, a filtered one exactly."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import paginator
from pods.models import Pod

from .test_queries import seed

pytestmark = pytest.mark.django_db


def analyze():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pods_pod")


def test_unfiltered_large_tables_use_the_estimate_and_filtered_lists_count(tenant, monkeypatch):
    seed(tenant, "alice", 40)
    analyze()
    estimate = paginator.estimated_rows(Pod)
    assert estimate == 40  # ANALYZE of a small table samples every row
    monkeypatch.setattr(paginator, "EXACT_BELOW", 10)
    with CaptureQueriesContext(connection) as ctx:
        assert paginator.EstimatedCountPaginator(Pod.objects.order_by("pk"), 10).count == 40
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
    Pod.objects.filter(pod_id__gte="pod00030").delete()  # the estimate lags until the next ANALYZE
    assert paginator.EstimatedCountPaginator(Pod.objects.order_by("pk"), 10).count == 40
    filtered = Pod.objects.filter(pod_id__startswith="pod0000").order_by("pk")
    assert paginator.EstimatedCountPaginator(filtered, 10).count == 10  # exact
    monkeypatch.setattr(paginator, "EXACT_BELOW", 1000)
    assert paginator.EstimatedCountPaginator(Pod.objects.order_by("pk"), 10).count == 30  # small: exact


def test_the_changelist_shows_no_full_count_and_no_per_row_queries(tenant, admin_client):
    seed(tenant, "alice", 60)
    analyze()
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get("/admin/pods/pod/?status__exact=REQUESTED")
    assert response.status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1  # the filtered count only: show_full_result_count is off
    pod_selects = [q["sql"] for q in ctx.captured_queries if 'FROM "pods_pod"' in q["sql"]]
    assert len(pod_selects) <= 3
