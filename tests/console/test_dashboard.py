"""The console's pages rendered by the test client: dashboard, pods list, pod page, logs, tenants."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pods.choices import PodStatus as S
from pods.models import Pod, PodEvent, PodLogRun
from workers import cluster_health

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(make_pod, image_pull_failure):
    make_pod("web1", status=S.AVAILABLE, networking={"default": {"protocol": "http", "port": 5000}})
    make_pod("web2", status=S.AVAILABLE)
    make_pod("broken", status=S.ERROR, container=image_pull_failure)
    make_pod("other", tenant="acme", owner="bob", status=S.CREATING,
             container={"message": "The pod is being scheduled.", "phase": "Pending"})
    return Pod.objects.all()


def test_admin_without_slash_and_root_lead_somewhere(client):
    response = client.get("/admin")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    root = client.get("/")
    assert root.status_code == 200 and b'href="/admin/"' in root.content and b'href="/docs"' in root.content


def test_docs_pages_use_local_static_files(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).content.decode()
        assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
        assert "/static/drf_spectacular_sidecar/" in html


def test_dashboard_counts_failures_and_health(fleet, admin_client):
    cluster_health.record(ok=True)
    html = admin_client.get("/admin/").content.decode()
    tile = re.search(r'data-status="AVAILABLE">\s*<b>(\d+)</b>', html)
    assert tile and tile.group(1) == "2"
    assert re.search(r'data-status="ERROR">\s*<b>1</b>', html)
    failures = html.split('id="dash-failures"')[1].split("</section>")[0]
    assert "broken" in failures and "ErrImagePull" in failures
    assert f'/admin/pods/pod/{Pod.objects.get(pod_id="broken").pk}/change/' in failures
    assert "other" in html.split('id="dash-starting"')[1].split("</section>")[0]
    health = html.split('id="dash-health"')[1].split("</section>")[0]
    assert "reachable" in health and "s ago" in health and "Queue" in health
    tenants = html.split('id="dash-tenants"')[1]
    assert "acme" in tenants and "dev" in tenants
    assert 'http-equiv="refresh"' in html


def test_pods_list_shows_badges_reasons_links_and_costs_constant_queries(fleet, make_pod, admin_client):
    def changelist_queries():
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get("/admin/pods/pod/")
        assert page.status_code == 200
        return len(queries), page.content.decode()

    few, html = changelist_queries()
    assert 'pods-badge pods-badge-error">ERROR' in html and "ErrImagePull" in html
    assert 'href="https://web1.pods.localhost"' in html
    for n in range(10):
        make_pod(f"more{n}", status=S.ERROR, container={"reason": "OOMKilled", "message": "out of memory"})
    many, _ = changelist_queries()
    assert many == few  # no per-row query


@pytest.mark.parametrize("query, shown, hidden", [
    ("q=acme", "other", "web1"), ("q=bob", "other", "web1"), ("status__exact=ERROR", "broken", "web1"),
])
def test_pods_list_search_and_filters(fleet, admin_client, query, shown, hidden):
    html = admin_client.get(f"/admin/pods/pod/?{query}").content.decode()
    assert f'title="{shown}">{shown}</span></a>' in html and f'title="{hidden}">' not in html


def test_pod_page_buttons_go_through_the_services(fleet, admin_client):
    pod = Pod.objects.get(pod_id="web1")
    page = admin_client.get(f"/admin/pods/pod/{pod.pk}/change/").content.decode()
    for verb in ("start", "stop", "restart"):
        assert f"/admin/pods/pod/{pod.pk}/lifecycle/{verb}/" in page
    assert "pods-service/pod-uid" in page and pod.k8_name in page
    assert admin_client.get(f"/admin/pods/pod/{pod.pk}/lifecycle/stop/").status_code == 405
    response = admin_client.post(f"/admin/pods/pod/{pod.pk}/lifecycle/stop/", follow=True)
    assert "Stop: 1 pod asked to stop (web1)." in response.content.decode()
    assert Pod.objects.get(pk=pod.pk).status_requested == "OFF"
    assert PodEvent.objects.filter(pod=pod, actor="admin-site:admin").exists()
    again = admin_client.post(f"/admin/pods/pod/{pod.pk}/lifecycle/start/", follow=True).content.decode()
    assert "web1 was not started: it is AVAILABLE" in again  # not STOPPED yet: nothing changed


def test_pod_page_formats_json_and_shows_failure_details(fleet, admin_client):
    pod = Pod.objects.get(pod_id="broken")
    Pod.objects.filter(pk=pod.pk).update(health={"warnings": ["Failed: Failed to pull image \"kubesim/nope:1\""]})
    html = admin_client.get(f"/admin/pods/pod/{pod.pk}/change/").content.decode()
    assert '<pre class="pods-pre">{\n  &quot;default&quot;' in html  # networking, indented
    assert "Failed to pull image" in html and "none recorded" not in html
    assert "Derived spec" in html and "template chain" in html


def test_logs_view_lists_runs_and_shows_full_text(fleet, admin_client):
    pod = Pod.objects.get(pod_id="web1")
    first = PodLogRun.objects.create(pod=pod, instance_id="00000000-0000-0000-0000-000000000001", text="old run\n")
    PodLogRun.objects.create(pod=pod, instance_id="00000000-0000-0000-0000-000000000002",
                             text="".join(f"line {i}\n" for i in range(100)))
    html = admin_client.get(f"/admin/pods/pod/{pod.pk}/logs/").content.decode()
    assert "line 0\n" in html and "line 99" in html  # the newest run, in full
    assert admin_client.get(f"/admin/pods/pod/{pod.pk}/logs/?run={first.instance_id}").content.decode().count("old run") == 1
    assert admin_client.get(f"/admin/pods/pod/{pod.pk}/logs/?run=nope").status_code == 404
    page = admin_client.get(f"/admin/pods/pod/{pod.pk}/change/").content.decode()
    assert "line 99" in page and "line 79" not in page  # the last 20 lines on the pod page


def test_console_requires_staff(fleet, client):
    pod = Pod.objects.get(pod_id="web1")
    for url in ("/admin/", f"/admin/pods/pod/{pod.pk}/logs/"):
        assert client.get(url).status_code == 302  # to the login page
    assert client.post(f"/admin/pods/pod/{pod.pk}/lifecycle/stop/").status_code == 302
    assert Pod.objects.get(pk=pod.pk).status_requested == "ON"


def test_tenants_show_pod_counts_and_quota(fleet, admin_client):
    html = admin_client.get("/admin/tenancy/tenant/").content.decode()
    row = html.split(">dev</a>")[1].split("</tr>")[0]
    assert "3</a> / <span title=\"PODS_TENANT_MAX_PODS (the tenant sets no max_pods)\">1000</span> (0%)" in row and "2 AVAILABLE" in row and "1 ERROR" in row


def test_images_say_who_may_run_them(admin_client):
    from templates_catalog.models import Image

    Image.objects.create(image="example/app", tenants=["*", "-acme"], added_by="test")
    html = admin_client.get("/admin/templates_catalog/image/").content.decode()
    assert "every tenant of this site (*); denied to acme (a deny wins)" in html
