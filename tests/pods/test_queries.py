"""Lists cost a constant number of queries, whatever the number of pods."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.permissions import PermissionLevel
from pods.models import Pod, PodPermission
from podspec.networking import default_networking


def seed(tenant, owner, n, start=0):
    """n pods owned by ``owner`` (bulk: the service path is tested elsewhere)."""
    now = timezone.now()
    pods = Pod.objects.bulk_create([
        Pod(tenant=tenant, pod_id=f"pod{i:05d}", image="kubesim/happy", networking=default_networking(),
            resources={"cpu_limit": 2000, "mem_limit": 3072}, environment_variables={"I": str(i)},
            creation_ts=now, update_ts=now)
        for i in range(start, start + n)
    ])
    PodPermission.objects.bulk_create([PodPermission(pod=p, username=owner, level=PermissionLevel.ADMIN)
                                       for p in pods])


def count_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


@pytest.mark.parametrize("admin_mode", [False, True])
def test_listing_1000_pods_costs_the_same_queries_as_10(tenant, client_for, admin_mode):
    client = client_for("boss" if admin_mode else "alice", admin_mode=admin_mode)
    seed(tenant, "alice", 10)
    client.get("/v3/pods")  # the tenant and its keys are now cached (tenancy.cache)
    small, body = count_queries(client, "/v3/pods")
    assert len(body["result"]) == 10
    seed(tenant, "alice", 990, start=10)
    large, body = count_queries(client, "/v3/pods")
    assert len(body["result"]) == 1000
    assert large == small
    assert large == (2 if admin_mode else 1)  # the list (+ the admin context's own ids)


@pytest.mark.parametrize("admin_mode", [False, True])
def test_get_pod_is_one_query_including_its_permission_check(tenant, client_for, admin_mode):
    seed(tenant, "alice", 1)
    client = client_for("boss" if admin_mode else "alice", admin_mode=admin_mode)
    cold, _ = count_queries(client, "/v3/pods/pod00000")
    assert cold == 3  # the tenant and its keys (now cached), the pod with the caller's level
    warm, body = count_queries(client, "/v3/pods/pod00000")
    assert warm == 1
    assert body["result"]["pod_id"] == "pod00000"


def test_get_pod_of_a_pod_the_caller_cannot_see_is_one_query_and_404(tenant, client_for):
    seed(tenant, "alice", 1)
    bob = client_for("bob")
    bob.get("/v3/pods/nosuch")
    with CaptureQueriesContext(connection) as ctx:
        response = bob.get("/v3/pods/pod00000")
    assert response.status_code == 404
    assert len(ctx.captured_queries) == 1


def test_admin_changelist_does_not_grow_with_pods(tenant, admin_client):
    seed(tenant, "alice", 5)
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get("/admin/pods/pod/").status_code == 200
    seed(tenant, "alice", 95, start=5)
    with CaptureQueriesContext(connection) as large:
        assert admin_client.get("/admin/pods/pod/").status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
