"""Steady state is silent at INFO; a failing pod's repeated errors are logged once per change."""
import logging

import pytest

from workers import quiet
from workers.logs import collect_logs
from workers.spawner import reconcile_pod
from workers.sweep import sweep

pytestmark = pytest.mark.django_db


def test_changed_reports_each_new_message_once():
    key = ("test", object())
    assert quiet.changed(key, "a") and not quiet.changed(key, "a")
    assert quiet.changed(key, "b")
    assert quiet.forget(key) and not quiet.forget(key)


def test_an_idle_sweep_logs_nothing_at_info(sim, make_pod, caplog):
    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()  # AVAILABLE now
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            sweep()
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_log_collection_failing_the_same_way_is_logged_once(sim, make_pod, caplog):
    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    # The API server refuses every log read (403: not retried, the same error each pass).
    sim.inject_fault(verb="GET", path="/api/v1/namespaces/*/pods/*/log", status=403, times=100)
    with caplog.at_level(logging.INFO, logger="workers.logs"):
        for _ in range(4):
            collect_logs()
    lines = [r for r in caplog.records if r.levelno >= logging.INFO and "log collection" in r.getMessage()]
    assert len(lines) == 1
