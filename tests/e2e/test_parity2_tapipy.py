"""End to end through tapipy (with the service's own OpenAPI document, which knows upstream's
newer secrets operations and pod fields): a secret reaches the pod and no response shows it; a
health-checked pod becomes AVAILABLE only once its readiness probe passes."""
import json

import pytest
import requests

from tests.e2e.conftest import PODS_NAMESPACE, wait_for

pytestmark = [pytest.mark.e2e]

VALUE = "e2e-Secret-Value-0000"


@pytest.fixture
def t(stack, live_server, make_tenant, tmp_path):
    from tapipy.tapis import Tapis

    from tenancy.services import dev_token

    tenant = make_tenant("dev")
    spec = tmp_path / "pods.json"
    spec.write_text(requests.get(f"{live_server.url}/openapi.json", timeout=30).text)
    token = dev_token(tenant=tenant, username="alice")
    client = Tapis(base_url=live_server.url, tenant_id="dev", access_token=token,
                   custom_spec_dict={"pods": f"local: {spec}"})
    client.raw_headers = {"X-Tapis-Token": token}
    return client


def test_a_secret_reaches_the_pod_and_no_response_shows_it(t, stack, live_server):
    t.pods.create_secret(secret_id="dbpass", secret_value=VALUE, description="db")
    created = t.pods.create_pod(pod_id="web", image="kubesim/web:1",
                                secret_map={"DB": "${secret:dbpass}"},
                                environment_variables={"DATABASE_URL": "postgres://u:${pods:secrets:DB}@db/x"},
                                healthchecks={"readiness": {"exec_command": ["test", "-f", "/tmp/ready"],
                                                            "initial_delay_seconds": 1, "period_seconds": 2,
                                                            "failure_threshold": 1}})
    assert created.secret_map.DB == "${secret:alice:dbpass}"
    wait_for(lambda: "not ready" in (getattr(t.pods.get_pod(pod_id="web").status_container, "message", "") or ""), 40,
             "the running pod to report it is not ready")
    pod = t.pods.get_pod(pod_id="web")
    assert pod.status == "CREATING" and pod.networking_live is False
    assert "pods-local-dev-web" not in requests.get(f"{live_server.url}/traefik-config", timeout=10).text

    k8_name = "pods-local-dev-web"
    assert stack.sim.exec(PODS_NAMESPACE, k8_name, ["printenv", "DATABASE_URL"], container="pod").stdout \
        == f"postgres://u:{VALUE}@db/x\n".encode()
    stack.sim.exec(PODS_NAMESPACE, k8_name, ["touch", "/tmp/ready"], container="pod")
    wait_for(lambda: t.pods.get_pod(pod_id="web").status == "AVAILABLE", 40, "the pod to turn AVAILABLE when ready")
    assert t.pods.get_pod(pod_id="web").networking_live is True
    assert k8_name in requests.get(f"{live_server.url}/traefik-config", timeout=10).text

    headers = t.raw_headers
    for path in ("/v3/pods", "/v3/pods/web", "/v3/pods/web/derived", "/v3/pods/web/logs",
                 "/v3/pods/secrets", "/v3/pods/secrets/dbpass", "/traefik-config"):
        body = requests.get(f"{live_server.url}{path}", headers=headers, timeout=10).text
        assert VALUE not in body, path
    pod_spec = json.dumps(stack.sim.call(lambda c: c.store.get("pods", PODS_NAMESPACE, k8_name).obj()))
    assert VALUE not in pod_spec
