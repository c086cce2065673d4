"""The usage counters Postgres keeps for the quota checks (pods/models/usage.py): they follow every
way pods are written — the service, bulk deletes, plain ORM updates — and the checks read them."""
import threading

import pytest
from django.db import connection, connections

from pods.models import Pod, PodUsage, UsageScope
from tenancy.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def usage(tenant):
    return {(u.scope, u.username): (u.pods, u.cpu_millicores, u.memory_mb)
            for u in PodUsage.objects.filter(tenant=tenant)}


def truth(tenant):
    """The counters recomputed from the pods themselves."""
    out = {}
    for pod in Pod.objects.filter(tenant=tenant):
        cpu, mem = pod.resources.get("cpu_limit", 0), pod.resources.get("mem_limit", 0)
        for key in ((UsageScope.TENANT, ""), (UsageScope.USER, pod.created_by)):
            n, c, m = out.get(key, (0, 0, 0))
            out[key] = (n + 1, c + cpu, m + mem)
    return out


def test_counters_follow_creates_updates_and_deletes_of_any_kind(tenant, make_pod):
    pods = [make_pod(f"u{i}", owner="alice" if i % 2 else "bob") for i in range(6)]
    assert usage(tenant) == truth(tenant) and usage(tenant)[(UsageScope.TENANT, "")][0] == 6
    pod = pods[0]
    pod.resources = {**pod.resources, "cpu_limit": 4000, "mem_limit": 8192}
    pod.save()  # an ORM save that changes the limits
    Pod.objects.filter(pk=pods[1].pk).update(created_by="carol")  # a bulk update moving a pod to another user
    Pod.objects.filter(pk=pods[2].pk).update(description="not counted")  # changes nothing counted
    assert usage(tenant) == truth(tenant)
    Pod.objects.filter(pk__in=[p.pk for p in pods[3:]]).delete()  # one statement, three pods
    assert usage(tenant) == truth(tenant)
    Pod.objects.filter(tenant=tenant).delete()
    assert usage(tenant) == {}  # rows that reach zero pods go


def test_a_rejected_create_leaves_no_count_behind(tenant, client_for):
    Tenant.objects.filter(pk=tenant.pk).update(max_pods=1)
    client = client_for("alice")
    assert client.post("/v3/pods", {"pod_id": "one", "image": "kubesim/web:1"}, format="json").status_code == 200
    refused = client.post("/v3/pods", {"pod_id": "two", "image": "kubesim/web:1"}, format="json")
    assert refused.status_code == 403 and "max_pods" in refused.json()["message"]
    assert usage(tenant)[(UsageScope.TENANT, "")][0] == 1 and not Pod.objects.filter(pod_id="two").exists()
    taken = client.post("/v3/pods", {"pod_id": "one", "image": "kubesim/web:1"}, format="json")
    assert taken.status_code == 409 and usage(tenant)[(UsageScope.TENANT, "")][0] == 1


def test_concurrent_creates_cannot_both_squeeze_under_the_limit(tenant):
    """Two transactions insert at once; the second waits on the tenant's counter row, then sees
    the first's pod and is refused: the quota holds without a lock of the tenant row."""
    from core.errors import QuotaExceeded
    from pods.services import pod_create
    from tenancy.identity import Principal

    Tenant.objects.filter(pk=tenant.pk).update(max_pods=1)
    tenant.refresh_from_db()
    results, start = [], threading.Barrier(2)

    def create(pod_id):
        try:
            start.wait(5)
            pod_create(principal=Principal(tenant=tenant, username=pod_id), data={"pod_id": pod_id,
                                                                                   "image": "kubesim/web:1"})
            results.append("created")
        except QuotaExceeded:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == ["created", "refused"]
    assert Pod.objects.filter(tenant=tenant).count() == 1 == usage(tenant)[(UsageScope.TENANT, "")][0]
    connection.close()
