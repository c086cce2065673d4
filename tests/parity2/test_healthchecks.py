"""healthchecks → Kubernetes probes; AVAILABLE (and routed) only once ready; a failing probe
shows in status_container. Driven through kubesim's probes with the real kubernetes client."""
import json

import kubernetes_validate
import pytest

from pods.choices import PodStatus as S
from pods.models import Pod
from tenancy.identity import Principal
from workers.kube.manifests import PodSpec, kube_probes, pod_manifest
from workers.spawner import reconcile_pod
from workers.sweep import sweep
from workers.traefik import current_config

pytestmark = pytest.mark.django_db

READY_FILE = {"readiness": {"exec_command": ["test", "-f", "/tmp/ready"], "initial_delay_seconds": 1,
                            "period_seconds": 2, "failure_threshold": 1}}


@pytest.fixture
def create(tenant):
    from pods.services.pods import pod_create

    alice = Principal(tenant=tenant, username="alice")

    def _create(pod_id="web", **data):
        data.setdefault("image", "kubesim/happy")
        return pod_create(principal=alice, data={"pod_id": pod_id, **data})

    return _create


def fresh(pod):
    return Pod.objects.get(pk=pod.pk)


def run(sim, seconds):
    for _ in range(max(1, seconds // 5)):
        sim.advance(5)
        sweep()


def routed(pod) -> bool:
    return pod.k8_name in json.dumps(current_config())


def test_probes_reach_the_manifest_and_are_valid_kubernetes():
    probes = kube_probes({"liveness": {"http_get_path": "/healthz", "period_seconds": 5, "success_threshold": 3},
                          "readiness": {"tcp_socket_port": 5432, "success_threshold": 2},
                          "startup": {"exec_command": ["cat", "/tmp/started"]}}, 5000)
    assert probes["liveness"]["httpGet"] == {"path": "/healthz", "port": 5000, "scheme": "HTTP"}
    assert probes["liveness"]["successThreshold"] == 1  # Kubernetes allows only 1 there
    assert probes["readiness"]["tcpSocket"] == {"port": 5432} and probes["readiness"]["successThreshold"] == 2
    manifest = pod_manifest(PodSpec(name="pods-local-dev-web", namespace="default", tenant_id="dev",
                                    pod_id="web", pod_uid="5f0c7d1e-1111-4222-8333-944455556666",
                                    instance_id="0b9d2f6e-aaaa-4bbb-8ccc-9ddddeeeefff", image="kubesim/happy",
                                    ports={"default": 5000}, probes=probes))
    kubernetes_validate.validate(manifest, "1.28.0", strict=True)
    container = manifest["spec"]["containers"][0]
    assert container["startupProbe"]["exec"] == {"command": ["cat", "/tmp/started"]}


def test_a_pod_is_available_and_routed_only_once_ready(sim, create):
    pod = create(healthchecks=READY_FILE)
    reconcile_pod(pod.pk)
    run(sim, 20)
    pod = fresh(pod)
    assert pod.status == S.CREATING
    assert pod.status_container["ready"] is False
    assert "Readiness probe failed" in pod.status_container["message"]
    assert "/tmp/ready" in pod.status_container["message"]
    assert not routed(pod)
    result = sim.exec("default", pod.k8_name, ["touch", "/tmp/ready"], container="pod")
    assert result.status == 0
    run(sim, 10)
    pod = fresh(pod)
    assert pod.status == S.AVAILABLE and pod.status_container["ready"] is True
    assert routed(pod)


def test_a_failing_http_readiness_probe_shows_its_message(sim, create):
    pod = create(image="kubesim/unready", healthchecks={"readiness": {"http_get_path": "/ready"}})
    reconcile_pod(pod.pk)
    run(sim, 60)
    pod = fresh(pod)
    assert pod.status == S.CREATING
    assert pod.status_container["message"] == ("The container is running but not ready: Readiness probe failed: "
                                               "HTTP probe failed with statuscode: 503")


def test_a_failing_liveness_probe_kills_the_pod_with_its_message(sim, create):
    pod = create(image="kubesim/unhealthy", healthchecks={"liveness": {"http_get_path": "/healthz",
                                                                       "initial_delay_seconds": 5}})
    reconcile_pod(pod.pk)
    run(sim, 90)
    pod = fresh(pod)
    assert pod.status == S.ERROR
    assert "Liveness probe failed" in pod.status_container["message"]


def test_networking_requires_ready_false_routes_a_running_pod(sim, create):
    pod = create(image="kubesim/unready", healthchecks={"readiness": {"http_get_path": "/ready"},
                                                        "networking_requires_ready": False})
    reconcile_pod(pod.pk)
    run(sim, 30)
    pod = fresh(pod)
    assert pod.status == S.AVAILABLE and pod.status_container["ready"] is False
    assert routed(pod)


def test_a_pod_without_healthchecks_is_available_when_running(sim, create):
    pod = create()
    reconcile_pod(pod.pk)
    run(sim, 10)
    assert fresh(pod).status == S.AVAILABLE


@pytest.mark.parametrize("healthchecks, field", [
    ({"readiness": {}}, "readiness"),
    ({"readiness": {"http_get_path": "/a", "tcp_socket_port": 80}}, "readiness"),
    ({"liveness": {"http_get_path": "nope"}}, "http_get_path"),
    ({"startup": {"exec_command": ["x"], "period_seconds": 0}}, "period_seconds"),
    ({"sometimes": {"exec_command": ["x"]}}, "sometimes"),
])
def test_bad_healthchecks_are_a_400_naming_the_field(alice, healthchecks, field):
    response = alice.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy", "healthchecks": healthchecks},
                          format="json")
    assert response.status_code == 400
    assert field in json.dumps(response.json()["message"])


def test_healthchecks_come_back_in_the_response_and_from_templates(alice):
    checks = {"readiness": {"http_get_path": "/ready"}}
    made = alice.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy", "healthchecks": checks}, format="json")
    assert made.status_code == 200, made.content
    assert made.json()["result"]["healthchecks"]["readiness"]["http_get_path"] == "/ready"
    assert made.json()["result"]["healthchecks"]["readiness"]["period_seconds"] == 10
    alice.post("/v3/pods/templates", {"template_id": "probed"}, format="json")
    tag = alice.post("/v3/pods/templates/probed/tags", {"commit_message": "x", "pod_definition": {
        "image": "kubesim/happy", "healthchecks": checks}}, format="json")
    assert tag.status_code == 200, tag.content
    pod = alice.post("/v3/pods", {"pod_id": "fromtpl", "template": "probed"}, format="json").json()["result"]
    assert pod["healthchecks"]["readiness"]["http_get_path"] == "/ready"


def test_healthchecks_round_trip_and_clear_with_null(alice):
    checks = {"liveness": {"http_get_path": "/health", "http_get_port": 5000},
              "readiness": {"http_get_path": "/ready", "http_get_port": 5000},
              "startup": {"exec_command": ["cat", "/tmp/started"]}, "networking_requires_ready": True}
    made = alice.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy"}, format="json").json()["result"]
    assert made["healthchecks"] is None and made["networking_live"] is False
    assert alice.put("/v3/pods/web", {"healthchecks": checks}, format="json").status_code == 200
    stored = alice.get("/v3/pods/web").json()["result"]["healthchecks"]
    assert stored["startup"]["exec_command"] == ["cat", "/tmp/started"]
    assert stored["readiness"]["http_get_path"] == "/ready" and stored["networking_requires_ready"] is True
    assert alice.put("/v3/pods/web", {"healthchecks": None}, format="json").status_code == 200
    assert alice.get("/v3/pods/web").json()["result"]["healthchecks"] is None


def test_an_exec_probe_reading_proc_passes(sim, create):
    pod = create(healthchecks={"liveness": {"exec_command": ["cat", "/proc/1/status"], "initial_delay_seconds": 1,
                                            "period_seconds": 2}})
    reconcile_pod(pod.pk)
    run(sim, 30)
    assert fresh(pod).status == S.AVAILABLE
