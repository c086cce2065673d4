"""The watch applies Kubernetes changes within about a second, without waiting for a sweep."""
import threading
import time

import pytest
from django.db import connection

from pods.choices import PodStatus as S
from pods.models import Pod
from workers.spawner import reconcile_pod
from workers.watch import apply_event, watch_forever

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_status(pod, status, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = Pod.objects.get(pk=pod.pk).status
        if current == status:
            return current
        time.sleep(0.05)
    return Pod.objects.get(pk=pod.pk).status


@pytest.fixture
def watcher(sim):
    stop = threading.Event()

    def run():
        try:
            watch_forever(stop, timeout_seconds=1)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)  # the initial list
    yield thread
    stop.set()
    thread.join(10)


def test_running_pod_becomes_available_without_a_sweep(sim, make_pod, watcher):
    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    assert wait_for_status(pod, S.AVAILABLE) == S.AVAILABLE
    assert Pod.objects.get(pk=pod.pk).start_instance_ts is not None


def test_crash_shows_as_error_without_a_sweep(sim, make_pod, watcher):
    pod = make_pod(image="kubesim/fails")
    reconcile_pod(pod.pk)
    for _ in range(4):
        sim.advance(30)
    assert wait_for_status(pod, S.ERROR) == S.ERROR


def test_deleted_pod_of_a_running_pod_is_started_again(sim, make_pod, watcher, core):
    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    wait_for_status(pod, S.AVAILABLE)
    core.delete_namespaced_pod(pod.k8_name, "default", grace_period_seconds=0)
    assert wait_for_status(pod, S.REQUESTED) == S.REQUESTED


def test_events_for_unknown_or_stopping_pods_are_ignored(sim, make_pod):
    assert apply_event("MODIFIED", {"metadata": {"labels": {"pods-service/pod-uid": "not-a-uuid"}}}) is False
    pod = make_pod(status_requested="OFF")
    assert apply_event("MODIFIED", {"metadata": {"labels": {"pods-service/pod-uid": str(pod.uid)}}}) is False


def test_a_late_event_about_the_previous_run_does_not_restart_the_current_one(sim, make_pod):
    from workers.sweep import sweep

    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    pod = Pod.objects.get(pk=pod.pk)
    assert pod.status == S.AVAILABLE
    stale = {"metadata": {"labels": {"pods-service/pod-uid": str(pod.uid),
                                     "pods-service/instance": "00000000-0000-4000-8000-000000000000"}}}
    assert apply_event("DELETED", stale) is False
    assert apply_event("MODIFIED", stale) is False
    assert Pod.objects.get(pk=pod.pk).status == S.AVAILABLE
