"""core.prepared.insert / insert_all: the create path's INSERTs built once, writing exactly what
save() writes; insert_all writes several rows in one statement."""
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from core.prepared import insert, insert_all, reserve_pk
from pods.models import Pod, PodCredentials, PodEvent, PodEventKind, PodPermission

pytestmark = pytest.mark.django_db


def _row(model, pk):
    return model.objects.filter(pk=pk).values().get()


def test_insert_writes_what_save_writes(tenant):
    fields = dict(tenant=tenant, image="kubesim/web:1", networking={"default": {"port": 5000}},
                  resources={"cpu_limit": 500}, environment_variables={"A": "1"}, created_by="alice")
    saved, inserted = Pod(pod_id="saved", **fields), Pod(pod_id="inserted", **fields)
    saved.save(force_insert=True)
    with CaptureQueriesContext(connection) as queries:
        insert(inserted)
    assert len(queries) == 1 and queries[0]["sql"].startswith('INSERT INTO "pods_pod"')
    assert inserted.pk and not inserted._state.adding
    one, other = _row(Pod, saved.pk), _row(Pod, inserted.pk)
    for differs in ("id", "pod_id", "uid"):  # each its own
        assert one.pop(differs) != other.pop(differs)
    for when in ("creation_ts", "update_ts", "status_changed_at"):  # defaults of "now"
        assert abs(one.pop(when) - other.pop(when)).total_seconds() < 5
    assert one == other
    event = PodEvent.for_pod(inserted, actor="alice", kind=PodEventKind.CREATED, message="made")
    insert(event)
    assert PodEvent.objects.get(pk=event.pk).created_at is not None  # auto_now_add, as save() sets it
    creds = PodCredentials.generate(inserted)  # its primary key is the pod's: no RETURNING
    insert(creds)
    assert PodCredentials.objects.get(pod=inserted).user_password == creds.user_password


def test_insert_raises_the_same_integrity_error(tenant):
    Pod.objects.create(tenant=tenant, pod_id="taken", image="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(Pod(tenant=tenant, pod_id="taken", image="x"))


def test_a_model_with_save_receivers_is_saved_the_ordinary_way(tenant):
    pod = Pod.objects.create(tenant=tenant, pod_id="p", image="x")
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.username, created))

    post_save.connect(receiver, sender=PodPermission)
    try:
        insert(PodPermission(pod=pod, username="alice", level=1, granted_by="alice"))
    finally:
        post_save.disconnect(receiver, sender=PodPermission)
    assert seen == [("alice", True)]


def test_a_reserved_primary_key_is_written_and_its_rows_may_come_first(tenant):
    pk = reserve_pk(Pod)
    assert reserve_pk(Pod) == pk + 1  # the sequence's next values
    pod = Pod(tenant=tenant, pod_id="later", image="x", created_by="alice")
    pod.pk = pk
    with transaction.atomic():
        insert(PodPermission(pod=pod, username="alice", level=1, granted_by="alice"))  # before its pod
        with CaptureQueriesContext(connection) as queries:
            insert(pod)
    assert len(queries) == 1 and "RETURNING" not in queries[0]["sql"]
    assert Pod.objects.get(pod_id="later").pk == pk
    assert PodPermission.objects.get(pod_id=pk).username == "alice"


def test_insert_all_writes_a_pod_and_its_rows_in_one_statement(tenant):
    fields = dict(tenant=tenant, image="kubesim/web:1", networking={"default": {"port": 5000}},
                  environment_variables={"A": "1"}, created_by="alice")
    saved = Pod(pod_id="saved", **fields)
    saved.save(force_insert=True)
    pod = Pod(pod_id="together", **fields)
    pod.pk = reserve_pk(Pod)
    permission = PodPermission(pod=pod, username="alice", level=3, granted_by="alice")
    creds = PodCredentials.generate(pod)
    event = PodEvent.for_pod(pod, actor="alice", kind=PodEventKind.CREATED, message="made")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        insert_all(permission, creds, event, pod)
    assert len(queries) == 1 and queries[0]["sql"].startswith("WITH i0 AS (INSERT INTO")
    assert permission.pk and event.pk and pod.pk and not any(
        o._state.adding for o in (permission, creds, event, pod))  # generated keys read back
    assert PodPermission.objects.get(pk=permission.pk).pod_id == pod.pk
    assert PodEvent.objects.get(pk=event.pk).message == "made"
    assert PodCredentials.objects.get(pod=pod).user_password == creds.user_password
    one, other = _row(Pod, saved.pk), _row(Pod, pod.pk)  # what save() writes
    for differs in ("id", "pod_id", "uid"):
        assert one.pop(differs) != other.pop(differs)
    for when in ("creation_ts", "update_ts", "status_changed_at"):
        assert abs(one.pop(when) - other.pop(when)).total_seconds() < 5
    assert one == other


def test_insert_all_raises_the_insert_s_integrity_error_and_writes_nothing(tenant):
    Pod.objects.create(tenant=tenant, pod_id="taken", image="x")
    pod = Pod(tenant=tenant, pod_id="taken", image="x")
    pod.pk = reserve_pk(Pod)
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        insert_all(PodPermission(pod=pod, username="bob", level=1, granted_by="bob"), pod)
    assert raised.value.__cause__.diag.constraint_name == "pod_unique_per_tenant"
    assert not PodPermission.objects.filter(username="bob").exists()


def test_insert_all_falls_back_to_one_insert_each_for_a_model_with_receivers(tenant):
    pod = Pod.objects.create(tenant=tenant, pod_id="p", image="x")
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append(instance.username)

    post_save.connect(receiver, sender=PodPermission)
    try:
        event = PodEvent.for_pod(pod, actor="alice", kind=PodEventKind.CREATED, message="made")
        insert_all(event, PodPermission(pod=pod, username="alice", level=1, granted_by="alice"))
    finally:
        post_save.disconnect(receiver, sender=PodPermission)
    assert seen == ["alice"] and PodEvent.objects.get(pk=event.pk).message == "made"


def test_a_row_pointing_to_a_pod_never_written_fails_the_commit(tenant):
    pod = Pod(tenant=tenant, pod_id="never", image="x")
    pod.pk = reserve_pk(Pod)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(PodPermission(pod=pod, username="alice", level=1, granted_by="alice"))
        connection.check_constraints()  # what the commit checks (the test's outer transaction never commits)


def _pod_with_rows(tenant, pod_id):
    from pods.models import PodLogRun

    pod = Pod.objects.create(tenant=tenant, pod_id=pod_id, image="x", created_by="alice")
    PodPermission.objects.create(pod=pod, username="alice", level=1, granted_by="alice")
    PodCredentials.generate(pod).save()
    PodEvent.for_pod(pod, actor="alice", kind=PodEventKind.CREATED, message="made").save()
    PodLogRun.objects.create(pod=pod, instance_id=uuid.uuid4())
    return pod


def _left(pk):
    from pods.models import PodLogRun

    return (Pod.objects.filter(pk=pk).count(), PodPermission.objects.filter(pod_id=pk).count(),
            PodCredentials.objects.filter(pod_id=pk).count(), PodLogRun.objects.filter(pod_id=pk).count(),
            PodEvent.objects.filter(pod_id=pk).count())


def test_delete_is_one_statement_leaving_what_the_collector_leaves(tenant):
    from core.prepared import delete

    by_collector, prepared = _pod_with_rows(tenant, "one"), _pod_with_rows(tenant, "other")
    pks = by_collector.pk, prepared.pk
    by_collector.delete()
    with CaptureQueriesContext(connection) as queries:
        delete(prepared)
    assert len(queries) == 1 and prepared.pk is None
    assert _left(pks[0]) == _left(pks[1]) == (0, 0, 0, 0, 0)
    assert PodEvent.objects.filter(pod=None, pod_uid__in=[by_collector.uid, prepared.uid]).count() == 2  # kept, unlinked
    connection.check_constraints()


def test_delete_with_receivers_goes_through_the_collector(tenant):
    from django.db.models.signals import post_delete

    from core.prepared import delete

    pod = _pod_with_rows(tenant, "watched")
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.username)

    post_delete.connect(receiver, sender=PodPermission)
    try:
        delete(pod)
    finally:
        post_delete.disconnect(receiver, sender=PodPermission)
    assert seen == ["alice"]
    assert not Pod.objects.filter(pod_id="watched").exists()
