"""What keeps background faults away from users, piece by piece: one sweep per interval, the
log-collection circuit breaker, a stale cluster observation, the 503 for a database that does not
answer, and the broker transport that survives a closed connection."""
import json
import time

import kombu
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from workers import cluster_health, tasks
from workers.breaker import log_breaker
from workers.logs import collect_logs
from workers.spawner import reconcile_pod
from workers.sweep import sweep as run_sweep

pytestmark = pytest.mark.django_db


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


def test_two_beats_sending_in_one_interval_run_one_sweep(sim, settings):
    # The defaults: the beat sends the sweep every PODS_RESYNC_SECONDS (300 s); the watcher's
    # timer pass (PODS_SWEEP_SECONDS, 5 s) has nothing to do with it.
    settings.PODS_RESYNC_SECONDS, settings.PODS_SWEEP_SECONDS = 300.0, 0.1
    _redis().delete(f"{settings.PODS_REDIS_PREFIX}:interval:sweep")
    first = tasks.sweep()
    time.sleep(0.5)  # the second beat started a moment later (longer than PODS_SWEEP_SECONDS)
    second = tasks.sweep()
    assert first is not None and first["cluster"] == "ok"
    assert second is None  # skipped: this interval's sweep already ran
    _redis().delete(f"{settings.PODS_REDIS_PREFIX}:interval:sweep")  # the next interval
    assert tasks.sweep() is not None


def test_log_collection_stops_at_the_first_api_failure_and_pauses_with_backoff(sim, make_pod, settings):
    settings.PODS_LOG_COLLECT_SECONDS = 30
    pods = [make_pod(f"logs{i}") for i in range(3)]
    for pod in pods:
        reconcile_pod(pod.pk)
    sim.advance(30)
    run_sweep()
    assert collect_logs()["pods"] == 3
    sim.outage()
    requests_before = len(sim.journal())
    result = collect_logs()
    assert result["failed"] == 1 and result["stopped"] == "circuit opened"  # not one try per pod
    tried = [e for e in sim.journal()[requests_before:] if "/log" in e.get("path", "")]
    assert len({e["path"] for e in tried}) == 1
    assert collect_logs()["skipped"]  # paused: no request at all
    state = log_breaker().state()
    assert state["failures"] == 1
    sim.clear_faults()
    # The pause is over (as if 30 s had passed): the next pass probes, succeeds, closes it.
    _redis().set(log_breaker()._key, json.dumps({**state, "open_until": 0}))
    assert collect_logs()["pods"] == 3
    assert log_breaker().state() == {}


def test_backoff_doubles_with_each_failed_probe(settings):
    settings.PODS_LOG_COLLECT_SECONDS, settings.PODS_LOG_BREAKER_MAX_SECONDS = 10, 35
    breaker = log_breaker()
    breaker.success()
    assert [breaker.failure("down") for _ in range(4)] == [10, 20, 35, 35]
    breaker.success()
    assert not breaker.is_open()


def test_a_stale_cluster_observation_is_reported_as_unknown(client, settings):
    cluster_health.record(ok=True)
    assert client.get("/healthcheck").json()["metadata"]["kubernetes"] == "reachable"
    key = f"{settings.PODS_REDIS_PREFIX}:cluster-health"
    state = json.loads(_redis().get(key))
    old = (timezone.now() - timezone.timedelta(seconds=settings.PODS_CLUSTER_HEALTH_STALE_SECONDS + 5)).isoformat()
    _redis().set(key, json.dumps({**state, "checked_at": old}))
    assert client.get("/healthcheck").json()["metadata"]["kubernetes"].startswith("unknown (last observed")


@pytest.mark.django_db(transaction=True)  # the connection is closed and reopened: no test transaction
def test_pod_endpoints_answer_503_when_the_database_does_not_answer(client_for, tenant):
    alice = client_for("alice")
    assert alice.get("/v3/pods").status_code == 200
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: the driver's own refusal
    try:
        for response in (alice.get("/v3/pods"), alice.get("/v3/pods/x"),
                         alice.post("/v3/pods", {"pod_id": "dbdown", "image": "kubesim/web:1"}, format="json")):
            assert response.status_code == 503, response.content
            assert response["Content-Type"] == "application/json"
            assert response["Retry-After"] == "5"
            body = response.json()
            assert body["status"] == "error" and "database" in body["message"]
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert alice.get("/v3/pods").status_code == 200


def test_a_channel_closed_under_its_messages_raises_a_connection_error_not_attribute_error():
    """The worker's reconnect crash (see pods_project/broker.py), reproduced on a real Redis."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    queue_name = f"{settings.PODS_REDIS_PREFIX}-broker-probe"
    conn = kombu.Connection(settings.CELERY_BROKER_URL, transport=settings.CELERY_BROKER_TRANSPORT)
    queue = kombu.Queue(queue_name)
    received = []
    try:
        with conn.Producer() as producer:
            producer.publish({"probe": 1}, routing_key=queue_name, declare=[queue])
        channel = conn.channel()
        kombu.Consumer(channel, [queue], callbacks=[lambda body, message: received.append(message)],
                       accept=["json"]).consume()
        conn.drain_events(timeout=5)
        assert received and channel.qos._delivered  # one unacknowledged message (acks_late)
        channel._disconnect_pools()  # what the connection error did to the channel's pools
        conn._do_close_transport()   # what celery 5.7 then does to the connection
        tag = received[0].delivery_tag
        with pytest.raises(RedisConnectionError):
            channel.qos.restore_unacked_once()
    finally:
        # Only this test's message leaves the shared Redis's unacked set (others' stay untouched).
        client = _redis()
        if received:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
        client.delete(queue_name)
