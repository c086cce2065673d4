"""Quick fault set (default run): each outage a few seconds long, the invariants checked after.

Redis killed (and brought back empty), the worker SIGKILLed mid-burst, Postgres stopped, the
cluster's API dropped: no request fails with anything but a 503 while the database is down,
nothing stays in flight, every AVAILABLE pod has exactly one Kubernetes pod of its instance,
and there are no orphans. The long campaign with the issue's durations and a steady load is
tests/faults/test_campaign.py (`make test-faults`).
"""
import threading
import time

import pytest

from tests.faults.harness import invariant_problems, settle, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout_note("starts Postgres, Redis, kubesim and six processes")]


def _create(stack, session, pod_id):
    return session.post(f"{stack.url}/v3/pods", json={"pod_id": pod_id, "image": "kubesim/web:1"}, timeout=30)


def _available(stack, pod_ids):
    rows = stack.rows()
    return all(rows.get(p, ("",))[0] == "AVAILABLE" for p in pod_ids)


def _wait_available(stack, pod_ids, timeout, what):
    def describe():
        rows = stack.rows()
        return f"not AVAILABLE: {[(p, rows.get(p)) for p in pod_ids if rows.get(p, ('',))[0] != 'AVAILABLE']}"

    wait_for(lambda: _available(stack, pod_ids), timeout, what, describe=describe)


def test_creates_during_a_redis_outage_answer_200_and_converge_when_redis_returns_empty(fault_stack):
    stack, session = fault_stack, fault_stack.session()
    worker_pid = stack.pids()["worker"]
    stack.redis.kill()
    created = [f"redis{i}" for i in range(5)]
    responses = [_create(stack, session, p) for p in created]
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert all(r.json()["result"]["status"] == "REQUESTED" for r in responses)
    assert session.get(f"{stack.url}/v3/pods/redis0", timeout=10).status_code == 200
    health = session.get(f"{stack.url}/healthcheck", timeout=10)
    assert health.status_code == 503 and health.json()["result"]["redis"] == "unavailable"

    stack.redis.start(empty=True)  # restarted with nothing: every wake-up and queued task is gone
    _wait_available(stack, created, 60, "pods created during the outage AVAILABLE")
    settle(stack)
    assert invariant_problems(stack) == []
    # The worker rode out the reconnect (the kombu/celery crash would have exited it).
    assert stack.pids()["worker"] == worker_pid and stack.restarts("worker") == 0


def test_a_worker_killed_mid_burst_is_restarted_and_its_pods_converge(fault_stack):
    stack = fault_stack
    pod_ids = [f"burst{i}" for i in range(12)]
    codes = []

    def create(chunk):
        session = stack.session()
        codes.extend(_create(stack, session, p).status_code for p in chunk)

    threads = [threading.Thread(target=create, args=(pod_ids[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    killed = stack.kill("worker")
    for t in threads:
        t.join(60)
    assert codes == [200] * len(pod_ids)
    wait_for(lambda: stack.pids()["worker"] != killed, 30, "the supervisor restarting the worker")
    _wait_available(stack, pod_ids, 90, "the burst's pods AVAILABLE")
    settle(stack)
    assert invariant_problems(stack) == []


def test_the_database_down_is_a_503_and_the_service_recovers_without_restarts(fault_stack):
    stack, session = fault_stack, fault_stack.session()
    assert _create(stack, session, "beforepg").status_code == 200
    stack.pg.stop()
    try:
        for method, path, body in (("GET", "/v3/pods", None), ("GET", "/v3/pods/beforepg", None),
                                   ("POST", "/v3/pods", {"pod_id": "duringpg", "image": "kubesim/web:1"})):
            r = session.request(method, f"{stack.url}{path}", json=body, timeout=30)
            assert r.status_code == 503, (method, path, r.status_code, r.text[:300])
            assert r.headers["Content-Type"] == "application/json"
            assert r.json()["status"] == "error" and "database" in r.json()["message"]
        assert session.get(f"{stack.url}/healthcheck", timeout=10).json()["result"]["database"] == "unavailable"
    finally:
        stack.pg.start()
    wait_for(lambda: session.get(f"{stack.url}/v3/pods/beforepg", timeout=10).status_code == 200, 30, "the API back")
    assert _create(stack, session, "afterpg").status_code == 200
    assert "duringpg" not in stack.rows()  # the refused create wrote nothing
    _wait_available(stack, ["beforepg", "afterpg"], 60, "pods AVAILABLE after the outage")
    assert stack.restarts("web") == 0
    settle(stack)
    assert invariant_problems(stack) == []


def test_a_cluster_outage_shows_in_the_healthcheck_and_pods_converge_after(fault_stack):
    stack, session = fault_stack, fault_stack.session()
    assert _create(stack, session, "beforek8s").status_code == 200
    _wait_available(stack, ["beforek8s"], 60, "a running pod whose logs are collected")
    stack.sim.outage()
    try:
        wait_for(lambda: stack.health()["metadata"]["kubernetes"].startswith("unreachable"), 15,
                 "the healthcheck saying the cluster is unreachable")
        assert _create(stack, session, "duringk8s").status_code == 200
        # Log collection stops hammering the dead API: its circuit is open.
        wait_for(lambda: _breaker_open(stack), 15, "the log collection circuit breaker opening")
    finally:
        stack.sim.heal()
    wait_for(lambda: stack.health()["metadata"]["kubernetes"] == "reachable", 15, "the cluster reachable again")
    _wait_available(stack, ["duringk8s"], 90, "the pod created during the outage AVAILABLE")
    settle(stack)
    assert invariant_problems(stack) == []


def test_the_healthcheck_reports_worker_and_beat_heartbeats(fault_stack):
    meta = fault_stack.health()["metadata"]
    assert meta["workers"]["alive"] >= 3
    queues = {q for p in meta["workers"]["processes"] for q in p["queues"]}
    assert {fault_stack.queue, f"{fault_stack.queue}.sweep", f"{fault_stack.queue}.bulk"} <= queues
    assert meta["beat"]["alive"] == 1


def _breaker_open(stack):
    import json

    import redis

    raw = redis.Redis.from_url(stack.redis.url).get(f"{stack.queue}:breaker:collect_logs")
    return raw is not None and json.loads(raw)["failures"] >= 1
