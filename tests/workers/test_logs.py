"""Incremental log collection against kubesim: per run, capped, kept across restarts."""
import pytest

from pods.models import Pod, PodLogRun
from pods.services.pods import pod_restart
from workers.logs import cap, collect_logs, collect_pod
from workers.spawner import reconcile_pod
from workers.sweep import sweep

pytestmark = pytest.mark.django_db


def available(sim, pod):
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    return Pod.objects.select_related("tenant").get(pk=pod.pk)


def test_collection_is_incremental(sim, make_pod):
    pod = available(sim, make_pod())
    collect_pod(pod)
    run = PodLogRun.objects.get(pod=pod, instance_id=pod.instance_id)
    assert f"starting container pod from image {pod.image}" in run.text
    first = run.text
    assert collect_pod(pod) == 0, "nothing new, nothing appended"
    sim.advance(60)
    assert collect_pod(pod) > 0
    run.refresh_from_db()
    assert run.text.startswith(first) and len(run.text) > len(first)
    assert run.text.count("starting container") == 1


def test_logs_are_capped_dropping_oldest_lines(sim, make_pod, settings):
    settings.PODS_LOG_MAX_BYTES = 200
    pod = available(sim, make_pod())
    sim.advance(600)
    collect_pod(pod)
    run = PodLogRun.objects.get(pod=pod)
    assert len(run.text.encode()) <= 200 and run.truncated
    assert "starting container" not in run.text


def test_restart_starts_a_new_run_and_keeps_the_old(sim, make_pod):
    pod = available(sim, make_pod())
    collect_pod(pod)
    pod_restart(pod=pod, actor="alice")
    reconcile_pod(pod.pk)
    sim.advance(60)
    sweep()
    reconcile_pod(pod.pk)
    pod = available(sim, pod)
    collect_logs()
    assert PodLogRun.objects.filter(pod=pod).count() == 2


def test_collect_logs_pass_reports_work(sim, make_pod):
    available(sim, make_pod("one"))
    available(sim, make_pod("two"))
    result = collect_logs()
    assert result["pods"] == 2 and result["bytes"] > 0 and result["failed"] == 0


def test_cap_keeps_whole_lines():
    assert cap("aaaa\nbbbb\ncccc\n", 10) == ("bbbb\ncccc\n", True)
    assert cap("aaaa\nbbbb\ncccc\n", 9) == ("cccc\n", True)
    assert cap("short\n", 100) == ("short\n", False)


def test_passes_take_turns_when_there_are_more_pods_than_a_pass_visits(sim, make_pod):
    pods = [available(sim, make_pod(f"pod{i}")) for i in range(3)]
    assert collect_logs(limit=2)["pods"] == 2
    assert collect_logs(limit=2)["pods"] == 2
    visited = set(PodLogRun.objects.values_list("pod_id", flat=True))
    assert visited == {p.pk for p in pods}, "the third pod got its turn on the second pass"
