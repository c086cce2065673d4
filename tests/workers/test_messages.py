"""Messages a user can act on, Warning events kept for failed pods, first logs on AVAILABLE,
and the metrics the sweep records — against kubesim through the real client."""
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from pods.choices import PodStatus as S
from pods.models import Pod, PodLogRun
from workers.observe import PULL_HINT, unschedulable_explanation
from workers.spawner import reconcile_pod
from workers.sweep import sweep
from workers.tasks import collect_pod_logs

pytestmark = pytest.mark.django_db


def fresh(pod):
    return Pod.objects.get(pk=pod.pk)


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_image_pull_failure_keeps_kubernetes_detail_and_ends_with_the_hint(sim, make_pod):
    pod = make_pod(image="kubesim/imagepull-error:1")
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    pod = fresh(pod)
    assert pod.status == S.ERROR
    message = pod.status_container["message"]
    assert "Back-off pulling image" in message  # Kubernetes' detail is there...
    assert message.endswith(PULL_HINT)  # ...and the hint is never dropped


def test_failed_pod_keeps_collecting_its_warning_events(sim, make_pod):
    pod = make_pod(image="kubesim/imagepull-error:1")
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    sim.advance(30)
    sweep()
    warnings = fresh(pod).health.get("warnings") or []
    assert any("Failed to pull image" in w for w in warnings), warnings


def test_unschedulable_pod_says_why_then_turns_error_after_the_timeout(sim, make_pod, settings):
    settings.PODS_CPU_MAX = 100000
    pod = make_pod(resources={"cpu_request": 50000, "cpu_limit": 50000})
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    pod = fresh(pod)
    assert pod.status == S.CREATING
    assert "no node has enough free resources (cpu)" in pod.status_container["message"]
    failures = sample("pods_failures_total", reason="Unschedulable")
    Pod.objects.filter(pk=pod.pk).update(
        status_changed_at=pod.status_changed_at - timedelta(seconds=settings.PODS_UNSCHEDULABLE_SECONDS + 1))
    sweep()
    pod = fresh(pod)
    assert pod.status == S.ERROR
    assert pod.status_container["message"].startswith(
        f"The pod could not be scheduled within {settings.PODS_UNSCHEDULABLE_SECONDS} s. no node has enough")
    assert sample("pods_failures_total", reason="Unschedulable") == failures + 1


@pytest.mark.parametrize("why, fragment", [
    ("0/3 nodes are available: 3 node(s) had untolerated taint {gpu: true}.", "taints"),
    ("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.", "node selector"),
    ("0/1 nodes are available: 1 Insufficient memory.", "enough free resources (memory)"),
])
def test_unschedulable_explanations_name_the_cause(why, fragment):
    assert fragment in unschedulable_explanation(why)


def test_available_pod_has_logs_at_once_and_the_spawn_is_measured(sim, make_pod):
    spawned = sample("pods_spawn_seconds_count")
    sweeps = sample("pods_sweeps_total", kind="sweep", outcome="ok")
    pod = make_pod()
    reconcile_pod(pod.pk)
    sim.advance(30)
    sweep()
    pod = fresh(pod)
    assert pod.status == S.AVAILABLE
    assert sample("pods_spawn_seconds_count") == spawned + 1
    assert sample("pods_sweeps_total", kind="sweep", outcome="ok") == sweeps + 1
    assert sample("pods_kube_requests_total", verb="list", resource="pods", code="200") >= 1
    assert collect_pod_logs(pod.pk) > 0  # what the transition enqueues
    assert PodLogRun.objects.get(pod=pod, instance_id=pod.instance_id).text
