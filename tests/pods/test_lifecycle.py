"""The state machine: compare-and-set transitions with one event each, and the wake hook."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pods import lifecycle
from pods.choices import AT_REST, TRANSITIONS, PodStatus, RequestedStatus, sources_of
from pods.lifecycle import (
    Change,
    IllegalTransition,
    apply_transitions,
    transition,
    wake_reconciler,
)
from pods.models import Pod, PodEvent, PodEventKind

S = PodStatus


@pytest.fixture
def sent(monkeypatch):
    """Record what the hook hands to the broker (the broker itself is exercised elsewhere)."""
    from pods_project.celery import app

    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


def test_transition_moves_status_and_writes_one_event(make_pod):
    pod = make_pod()
    assert pod.status == S.REQUESTED
    assert transition(pod, to=S.SPAWNER_SETUP, actor="spawner", message="picked up") is True
    pod.refresh_from_db()
    assert pod.status == S.SPAWNER_SETUP
    event = PodEvent.objects.filter(pod=pod, kind=PodEventKind.STATUS).get()
    assert (event.from_status, event.to_status, event.actor) == ("REQUESTED", "SPAWNER SETUP", "spawner")
    assert "picked up" in event.message


def test_second_transition_with_stale_expected_status_loses(make_pod):
    pod = make_pod()
    stale = Pod.objects.get(pk=pod.pk)  # another actor's snapshot, also REQUESTED
    assert transition(pod, to=S.SPAWNER_SETUP) is True
    assert transition(stale, to=S.SPAWNER_SETUP) is False  # expected REQUESTED, row says SPAWNER SETUP
    assert stale.status == S.REQUESTED  # the loser's instance is left alone
    assert Pod.objects.get(pk=pod.pk).status == S.SPAWNER_SETUP
    assert PodEvent.objects.filter(pod=pod, kind=PodEventKind.STATUS).count() == 1


def test_transition_writes_extra_fields_in_the_same_update(make_pod):
    pod = make_pod()
    transition(pod, to=S.CREATING, fields={"status_container": {"phase": "Pending"}})
    pod.refresh_from_db()
    assert pod.status_container == {"phase": "Pending"}


def test_transition_costs_one_update_and_one_insert(make_pod):
    pod = make_pod()
    with CaptureQueriesContext(connection) as ctx:
        transition(pod, to=S.CREATING)
    sql = [q["sql"].split()[0] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert sql == ["UPDATE", "INSERT"]


def test_transition_status_changed_at_moves(make_pod):
    pod = make_pod()
    before = pod.status_changed_at
    transition(pod, to=S.CREATING)
    assert Pod.objects.get(pk=pod.pk).status_changed_at > before


def test_illegal_transition_raises(make_pod):
    pod = make_pod(status_requested="OFF")
    assert pod.status == S.STOPPED
    with pytest.raises(IllegalTransition):
        transition(pod, to=S.AVAILABLE)
    with pytest.raises(IllegalTransition):
        transition(pod, to=S.STOPPED, expected=[S.DELETING, S.STOPPED])
    assert not PodEvent.objects.filter(pod=pod, kind=PodEventKind.STATUS).exists()


def test_transitions_table_covers_every_status():
    assert set(TRANSITIONS) == set(S)
    assert all(targets <= set(S) and src not in targets for src, targets in TRANSITIONS.items())
    assert AT_REST == {S.STOPPED, S.ERROR, S.COMPLETE}
    assert sources_of(S.SPAWNER_SETUP) == {S.REQUESTED}
    assert S.SPAWNER_SETUP.value == "SPAWNER SETUP"


def test_transition_of_deleted_pod_returns_false(make_pod):
    pod = make_pod()
    Pod.objects.filter(pk=pod.pk).delete()
    assert transition(pod, to=S.CREATING) is False


def test_apply_transitions_in_bulk_keeps_only_winners(make_pod):
    pods = [make_pod(f"bulk{i}") for i in range(6)]
    transition(Pod.objects.get(pk=pods[0].pk), to=S.CREATING)  # pods[0] moved on meanwhile
    changes = [Change(pod=p, to=S.CREATING, expected=(S.REQUESTED,),
                      fields={"status_container": {"n": i}} if i % 2 else {})
               for i, p in enumerate(pods)]
    with CaptureQueriesContext(connection) as ctx:
        moved = apply_transitions(changes, actor="sweep")
    assert {p.pk for p in moved} == {p.pk for p in pods[1:]}
    assert len(ctx.captured_queries) <= 8  # lock, ≤2 bulk updates, 1 insert, savepoints
    assert Pod.objects.get(pk=pods[3].pk).status_container == {"n": 3}
    assert PodEvent.objects.filter(kind=PodEventKind.STATUS, actor="sweep").count() == 5
    assert PodEvent.objects.filter(pod=pods[0], kind=PodEventKind.STATUS).count() == 1


def test_wake_reconciler_sends_only_after_commit(db, django_capture_on_commit_callbacks, sent):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        wake_reconciler(42)
    assert sent == []
    for callback in callbacks:
        callback()
    assert sent == [("workers.reconcile_pod", [42])]


def test_wake_reconciler_swallows_broker_errors(db, monkeypatch, caplog, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from pods_project.celery import app

    def broken(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", broken)
    with django_capture_on_commit_callbacks(execute=True):
        wake_reconciler(7)
    assert "could not enqueue workers.reconcile_pod for pod 7" in caplog.text


def test_wake_reconciler_reaches_the_real_broker(db, caplog, django_capture_on_commit_callbacks):
    """No mock: the task is published to Redis (nobody consumes it here; the sweep converges anyway)."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        wake_reconciler(123456789)
    assert len(callbacks) == 1
    assert "could not enqueue" not in caplog.text


def test_create_on_and_start_wake_the_worker_after_commit(make_pod, sent, django_capture_on_commit_callbacks):
    from pods.services import pod_start, pod_stop

    with django_capture_on_commit_callbacks(execute=True):
        pod = make_pod(status_requested=RequestedStatus.OFF)
    assert sent == []  # created OFF: nothing to do
    with django_capture_on_commit_callbacks(execute=True):
        pod_start(pod=pod, actor="alice")
    assert sent == [("workers.reconcile_pod", [pod.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        pod_stop(pod=pod, actor="alice")
    assert len(sent) == 2


def test_lifecycle_module_never_imports_the_kubernetes_adapter():
    import ast
    import pathlib

    import pods

    for path in pathlib.Path(pods.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "kubernetes" or n.startswith(("workers.kube", "kubernetes.")) for n in names), path


def test_request_status_is_recorded_but_is_not_a_transition(make_pod):
    pod = make_pod()
    lifecycle.request_status(pod, requested=RequestedStatus.OFF, actor="alice")
    pod.refresh_from_db()
    assert (pod.status, pod.status_requested) == (S.REQUESTED, "OFF")
    assert PodEvent.objects.filter(pod=pod, kind=PodEventKind.REQUESTED).count() == 1


def test_delete_asks_the_worker_to_remove_the_objects_of_that_row(make_pod, sent, django_capture_on_commit_callbacks):
    from pods.services.pods import pod_delete

    pod = make_pod()
    name, uid = pod.k8_name, str(pod.uid)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        pod_delete(pod=pod, actor="alice")
    assert sent == [("workers.remove_pod_objects", [name, uid])]


def test_in_background_the_request_does_not_wait_for_the_publish(db, settings, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    """Production mode: the commit hook only queues; the process's sender thread publishes."""
    import threading

    from pods import dispatch
    from pods_project.celery import app

    settings.PODS_ENQUEUE_IN_BACKGROUND = True
    release, published = threading.Event(), []

    def slow_broker(name, args=None, **kw):
        release.wait(5)  # a broker that takes its time
        published.append((name, args, threading.current_thread().name))

    monkeypatch.setattr(app, "send_task", slow_broker)
    with django_capture_on_commit_callbacks(execute=True):
        wake_reconciler(5)
        wake_reconciler(6)
    assert published == []  # the request went on without waiting
    release.set()
    assert dispatch.flush(5)
    assert published == [("workers.reconcile_pod", [5], "pods-enqueue"), ("workers.reconcile_pod", [6], "pods-enqueue")]


def test_in_background_a_broker_failure_is_logged_by_the_sender(db, settings, monkeypatch, caplog,
                                                                 django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from pods import dispatch
    from pods_project.celery import app

    settings.PODS_ENQUEUE_IN_BACKGROUND = True

    def broken(*args, **kwargs):
        raise OperationalError("Connection refused.")

    monkeypatch.setattr(app, "send_task", broken)
    with django_capture_on_commit_callbacks(execute=True):
        wake_reconciler(8)
    assert dispatch.flush(5)
    assert "could not enqueue workers.reconcile_pod for pod 8" in caplog.text
    dispatch.reset_breaker()
