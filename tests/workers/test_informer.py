"""The informer (list + watch per kind, mirror, Plan per change) and its leader lease, against
kubesim through the real client and the real Redis and Postgres."""
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from pods.choices import PodStatus as S
from pods.models import Pod
from workers.informer import Informer, run_informer
from workers.lease import Lease
from workers.spawner import reconcile_pod
from workers.watch import watch_forever

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_lease(settings):
    """A lease of this test's own: another xdist worker's watcher never holds it."""
    settings.PODS_REDIS_PREFIX = f"{settings.PODS_REDIS_PREFIX}-{uuid.uuid4().hex[:8]}"


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(pod):
    return Pod.objects.get(pk=pod.pk).status


class Running:
    """lead_forever in a thread; ``informers`` collects each term's Informer."""

    def __init__(self, timeout_seconds=2):
        self.stop, self.informers = threading.Event(), []

        def run():
            try:
                watch_forever(self.stop, timeout_seconds=timeout_seconds, on_start=self.informers.append)
            finally:
                connection.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def synced(self):
        return wait_for(lambda: self.informers and self.informers[-1].synced() and self.informers[-1], 10, "sync")

    def end(self):
        self.stop.set()
        self.thread.join(15)
        assert not self.thread.is_alive()


# -- the lease --------------------------------------------------------------------------------------

def test_only_one_holds_the_lease_and_each_term_has_a_larger_fencing_token():
    first, second = Lease("t", ttl=5), Lease("t", ttl=5)
    assert first.acquire() and not second.acquire()
    assert first.fenced() and not second.fenced()
    assert first.current()["holder"] == first.holder
    token = first.token
    first.release()
    assert not first.fenced() and first.current() is None
    assert second.acquire() and second.token > token


def test_a_dead_leaders_lease_expires_and_a_standby_takes_over_and_fences_it_out():
    dead, standby = Lease("t", ttl=0.5), Lease("t", ttl=5)
    assert dead.acquire()
    assert not standby.acquire()
    time.sleep(0.7)  # the leader stopped renewing (it died)
    assert standby.acquire() and standby.token > dead.token
    # The old leader, if it was only paused, finds out before acting, and at its next renewal.
    assert not dead.fenced()
    assert not dead.renew() and dead.token is None
    assert standby.renew() and standby.fenced()


def test_a_standby_watcher_takes_over_when_the_leader_stops(sim, make_pod, settings):
    settings.PODS_LEADER_LEASE_SECONDS = 1.0
    leader = Running()
    leader.synced()
    standby = Running()
    time.sleep(0.5)
    assert standby.informers == []  # standing by: nothing follows the cluster twice
    # The leader dies without releasing: its lease runs out, and the standby takes over.
    lease = Lease("watch_cluster")
    holder = lease.current()
    leader.informers[-1].lease.release = lambda: None  # noqa: E731 - as if killed: no release
    leader.stop.set()
    leader.thread.join(15)
    assert lease.current() is not None and lease.current()["token"] == holder["token"]
    started = time.monotonic()
    informer = standby.synced()
    assert time.monotonic() - started < 3 and lease.current()["token"] > holder["token"]
    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    wait_for(lambda: status_of(pod) == S.AVAILABLE, 10, "AVAILABLE through the new leader")
    assert informer.applied >= 1
    standby.end()


# -- the informer -----------------------------------------------------------------------------------

def test_steady_state_sends_no_kubernetes_request(sim, make_pod, settings):
    settings.PODS_SWEEP_SECONDS = 0.2  # several timer passes in the window
    pods = [make_pod(pod_id=f"p{i}") for i in range(3)]
    for pod in pods:
        reconcile_pod(pod.pk)
    sim.advance(30)
    running = Running(timeout_seconds=30)
    running.synced()
    wait_for(lambda: all(status_of(p) == S.AVAILABLE for p in pods), 10, "AVAILABLE")
    sim.clear_journal()
    time.sleep(1.5)
    requests = [e for e in sim.journal() if not e.get("path", "").startswith("/_kubesim")]
    running.end()
    assert requests == [], requests


def test_a_stop_is_marked_stopped_from_the_watch(sim, make_pod):
    from pods.lifecycle import request_status
    from pods.choices import RequestedStatus

    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    running = Running()
    running.synced()
    wait_for(lambda: status_of(pod) == S.AVAILABLE, 10, "AVAILABLE")
    request_status(Pod.objects.get(pk=pod.pk), requested=RequestedStatus.OFF, actor="test", message="stop")
    reconcile_pod(pod.pk)  # DELETING: the Pod and Service deletes are sent
    assert status_of(pod) == S.DELETING
    sim.advance(60)  # the grace period ends; the Pod goes
    wait_for(lambda: status_of(pod) == S.STOPPED, 10, "STOPPED without a sweep")
    running.end()


def test_a_410_relists_and_what_changed_meanwhile_is_applied(sim, make_pod, core):
    pod = make_pod()
    reconcile_pod(pod.pk)
    running = Running(timeout_seconds=1)
    informer = running.synced()
    # The next pods watch is told its resourceVersion is too old: the informer lists again.
    sim.inject_fault(verb="WATCH", path="*/pods", status=410, times=1)
    sim.advance(30)
    wait_for(lambda: status_of(pod) == S.AVAILABLE, 15, "AVAILABLE after the relist")
    wait_for(lambda: len([e for e in sim.journal() if e["method"] == "GET" and "watch" not in e["query"]
                          and e["path"].endswith("/namespaces/default/pods")]) == 2, 15, "the relist")
    running.end()
    pod_reads = [e for e in sim.journal() if e["path"].endswith("/namespaces/default/pods")]
    faulted = [e for e in pod_reads if e["fault"] is not None]
    lists = [e for e in pod_reads if e["method"] == "GET" and "watch" not in e["query"]]
    assert len(faulted) == 1 and len(lists) == 2, [(e["query_string"], e["fault"]) for e in pod_reads]
    assert informer.mirror.pods[pod.k8_name]["status"]["phase"] == "Running"


def test_the_mirror_holds_a_trimmed_copy_and_reports_its_size(sim, make_pod):
    pods = [make_pod(pod_id=f"m{i}") for i in range(3)]
    for pod in pods:
        reconcile_pod(pod.pk)
    sim.advance(30)
    running = Running()
    informer = running.synced()
    wait_for(lambda: informer.mirror.counts()["mirror_pods"] == 3 and informer.mirror.counts()["mirror_services"] == 3, 10,
             "mirror")
    kpod = informer.mirror.pods[pods[0].k8_name]
    assert set(kpod) == {"metadata", "spec", "status"} and "env" not in str(kpod["spec"])
    assert 0 < informer.mirror.memory_bytes() < 3 * 20_000
    running.end()


def test_run_informer_gives_up_when_the_lease_is_lost(sim, settings):
    settings.PODS_LEADER_LEASE_SECONDS = 0.6
    lease = Lease("watch_cluster")
    assert lease.acquire()
    lease.client.delete(lease.key)  # taken away (expired and taken over)
    Lease("watch_cluster").acquire()
    done = threading.Event()

    def run():
        try:
            run_informer(threading.Event(), lease, timeout_seconds=1)
        finally:
            connection.close()
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(5), "a leader that lost its lease must stop acting"


def test_plan_reads_only_the_changed_rows(sim, make_pod, django_assert_max_num_queries):
    informer = Informer()
    for kind in ("pod", "service", "event"):
        informer.mirror.replace(kind, [], "1")
    pods = [make_pod(pod_id=f"q{i}") for i in range(5)]
    with django_assert_max_num_queries(1):
        assert informer.plan({str(pods[0].uid)}) in (0, 1)


def _mirrored_but_empty(informer):
    for kind in ("pod", "service", "event"):
        informer.mirror.replace(kind, [], "1")
        informer.watching[kind] = True


def test_nothing_is_decided_while_a_watch_is_broken(sim, make_pod):
    """After an outage the mirror lacks whatever was created meanwhile: until the kind is listed
    again, a row the sweep made AVAILABLE must not read as "its pod vanished"."""
    informer = Informer()
    _mirrored_but_empty(informer)
    pod = make_pod()
    Pod.objects.filter(pk=pod.pk).update(status=S.AVAILABLE, instance_id=uuid.uuid4(),
                                         status_changed_at=timezone.now() - timedelta(minutes=5))
    informer.watching["pod"] = False  # its stream broke
    assert not informer.synced()
    informer.dirty = {str(pod.uid)}
    assert informer.run_once(0.01) == 0
    assert informer.dirty == {str(pod.uid)} and status_of(pod) == S.AVAILABLE
    informer.watching["pod"] = True  # listed again: the mirror is current, and the pod is gone
    assert informer.run_once(0.01) == 1
    assert status_of(pod) == S.REQUESTED


def test_a_row_newer_than_the_mirror_is_planned_again_later_not_judged_vanished(sim, make_pod):
    informer = Informer()
    _mirrored_but_empty(informer)
    pod = make_pod()
    Pod.objects.filter(pk=pod.pk).update(status=S.AVAILABLE, instance_id=uuid.uuid4(), status_changed_at=timezone.now())
    # Made AVAILABLE a moment ago (by the sweep's newer list): the mirror may not have the pod yet.
    assert informer.plan({str(pod.uid)}) == 1
    assert status_of(pod) == S.AVAILABLE and str(pod.uid) in informer.later
    assert informer.take_due() == set()  # not yet
    informer.later[str(pod.uid)] = 0  # its time came, and still no pod in the mirror: it did vanish
    Pod.objects.filter(pk=pod.pk).update(status_changed_at=timezone.now() - timedelta(seconds=60))
    assert informer.plan(informer.take_due()) == 1
    assert status_of(pod) == S.REQUESTED and informer.later == {}


def test_the_sweep_does_not_judge_a_pod_that_became_available_after_its_lists(sim, make_pod):
    from workers.sweep import Plan

    pod = make_pod()
    Pod.objects.filter(pk=pod.pk).update(status=S.AVAILABLE, instance_id=uuid.uuid4(), status_changed_at=timezone.now())
    from workers.sweep import ROW_FIELDS

    row = Pod.objects.filter(pk=pod.pk).values(*ROW_FIELDS).get()
    looked = row["status_changed_at"] - timedelta(seconds=1)  # the lists began before the row moved
    plan = Plan(timezone.now(), observed_since=looked)
    plan.row(row, pod.k8_name, None, service_present=False, pod_warnings=[])
    assert plan.changes == [] and plan.to_reconcile == [] and plan.deferred == [str(pod.uid)]
    plan = Plan(timezone.now(), observed_since=row["status_changed_at"] + timedelta(seconds=1))
    plan.row(row, pod.k8_name, None, service_present=False, pod_warnings=[])
    assert [c.to for c in plan.changes] == [S.REQUESTED] and plan.to_reconcile == [pod.pk]
