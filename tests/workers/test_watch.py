"""The watcher (the informer under its lease) applies Kubernetes changes within about a second,
without waiting for a sweep."""
import threading
import time
import uuid

import pytest
from django.db import connection

from pods.choices import PodStatus as S
from pods.models import Pod
from workers.spawner import reconcile_pod
from workers.watch import watch_forever

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_status(pod, status, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = Pod.objects.get(pk=pod.pk).status
        if current == status:
            return current
        time.sleep(0.05)
    return Pod.objects.get(pk=pod.pk).status


@pytest.fixture(autouse=True)
def own_lease(settings):
    """A lease of this test's own: another xdist worker's watcher never holds it."""
    settings.PODS_REDIS_PREFIX = f"{settings.PODS_REDIS_PREFIX}-{uuid.uuid4().hex[:8]}"


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


def test_objects_of_unknown_pods_or_of_another_row_are_ignored(sim, make_pod):
    from workers.informer import Informer

    informer = Informer()
    pod = make_pod()
    reconcile_pod(pod.pk)
    pod = Pod.objects.get(pk=pod.pk)
    # Not a uuid, no such row: nothing to plan. A namesake of another row (a deleted pod's
    # object with the same name) is not this row's Pod.
    assert informer.plan({"not-a-uuid", "00000000-0000-4000-8000-000000000000"}) == 0
    informer.mirror.apply("pod", "ADDED", {"metadata": {"name": pod.k8_name, "resourceVersion": "1", "labels": {
        "pods-service/pod-uid": "00000000-0000-4000-8000-000000000000"}}})
    assert informer.mirror.observed(pod.k8_name, str(pod.uid))[0] is None
