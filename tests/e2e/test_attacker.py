"""An attacker's afternoon against the whole service (live server, worker, beat, watcher, kubesim):
each of the security findings is tried over HTTP, and what reached the cluster is inspected."""
import base64
import json
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.conftest import PODS_NAMESPACE, wait_for

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def world(stack, live_server, make_tenant):
    from kubernetes import client, config

    from tenancy.services import dev_token

    dev = make_tenant("dev", admins=["boss"])
    evil = make_tenant("evil", admins=["eviladmin"])
    api = config.new_client_from_config(config_file=stack.kubeconfig)

    def headers(user, tenant=dev, **extra):
        return {"X-Tapis-Token": dev_token(tenant=tenant, username=user), "Content-Type": "application/json", **extra}

    yield {"url": live_server.url, "dev": dev, "evil": evil, "h": headers, "core": client.CoreV1Api(api),
           "net": client.NetworkingV1Api(api), "api": api}
    api.close()


def status(w, pod_id, user="alice"):
    return requests.get(f"{w['url']}/v3/pods/{pod_id}", headers=w["h"](user), timeout=10).json()["result"]["status"]


def test_the_attacks_fail_and_the_cluster_gets_only_locked_down_pods(world):
    w, url, h = world, world["url"], world["h"]
    networking = {"default": {"protocol": "http", "port": 5000, "tapis_auth": True}}
    assert requests.post(f"{url}/v3/pods", headers=h("alice"), timeout=10,
                         json={"pod_id": "guarded", "image": "kubesim/web:1", "networking": networking}).ok
    evil_net = {"default": {**networking["default"], "tapis_auth_allowed_users": ["*"]}}
    assert requests.post(f"{url}/v3/pods", headers=h("mallory", w["evil"]), timeout=10, json={
        "pod_id": "guarded", "image": "kubesim/web:1", "status_requested": "OFF", "networking": evil_net}).ok
    wait_for(lambda: status(w, "guarded") == "AVAILABLE", 60, "guarded to run")

    # 1. forwardAuth, at the address the proxy is told, with the host the proxy forwards.
    config = requests.get(f"{url}/traefik-config", timeout=10).json()
    [auth] = [m["forwardAuth"]["address"] for m in config["http"]["middlewares"].values() if "forwardAuth" in m]
    address = url + urlsplit(auth).path + "?" + urlsplit(auth).query
    proxy = {"X-Forwarded-Host": "guarded.pods.localhost"}
    assert requests.get(address, headers={**h("mallory", w["evil"]), **proxy}, timeout=10).status_code == 403
    assert requests.get(address, headers={**h("alice"), **proxy}, timeout=10).status_code == 200

    # 2. A service token of a tenant nobody marked as an issuer, acting as dev's admin.
    from tenancy.identity.keys import sign_rs256, tapis_claims

    claims = tapis_claims(tenant_id="evil", username="svc", ttl=600, account_type="service")
    service = sign_rs256(claims, w["evil"].keys.first().private_key_pem())
    response = requests.get(f"{url}/v3/pods", timeout=10, headers={
        "X-Tapis-Token": service, "X-Tapis-User": "boss", "X-Tapis-Tenant": "dev", "X-Pods-Admin": "true"})
    assert response.status_code == 403

    # 6. A USER of a pod: no desired state, no admin password.
    assert requests.post(f"{url}/v3/pods/guarded/permissions", headers=h("alice"), timeout=10,
                         json={"user": "bob", "level": "USER"}).ok
    assert requests.put(f"{url}/v3/pods/guarded", headers=h("bob"), timeout=10,
                        json={"status_requested": "OFF"}).status_code == 403
    assert requests.put(f"{url}/v3/pods/guarded", headers=h("bob"), timeout=10, json={
        "environment_variables": {"STOLEN": "<<TAPIS_admin_password>>"}}).ok
    assert requests.get(f"{url}/v3/pods/guarded/restart", headers=h("alice"), timeout=10).ok
    wait_for(lambda: status(w, "guarded") != "AVAILABLE", 30, "the restart to begin")
    wait_for(lambda: status(w, "guarded") == "AVAILABLE", 60, "guarded to run again")

    # 5. Another tenant's admin, in admin mode (image writes need it), writes dev's image policy.
    refused = requests.post(f"{url}/v3/pods/images", headers=h("eviladmin", w["evil"], **{"X-Pods-Admin": "true"}),
                            timeout=10, json={"image": "lab/tool", "tenants": ["dev"]})
    assert refused.status_code == 403 and "own tenant only" in refused.json()["message"]

    # 9. Bad input.
    for body in ("[" * 100000 + "]" * 100000, json.dumps({"pod_id": "x", "image": "kubesim/web", "d": "x" * 3_000_000}),
                 json.dumps({"pod_id": "big", "image": "kubesim/web", "time_to_stop_default": 10**12})):
        response = requests.post(f"{url}/v3/pods", headers=h("alice"), data=body, timeout=30)
        assert 400 <= response.status_code < 500 and response.json()["status"] == "error", response.text[:200]
    assert requests.get(f"{url}/v3/pods/ab%00c", headers=h("alice"), timeout=10).status_code == 400

    # What reached the cluster.
    from pods.models import Pod

    pod = Pod.objects.get(tenant=w["dev"], pod_id="guarded")
    kpod = w["core"].read_namespaced_pod(pod.k8_name, PODS_NAMESPACE)
    container = kpod.spec.containers[0]
    assert container.security_context.capabilities.drop == ["ALL"]
    assert container.security_context.allow_privilege_escalation is False
    assert kpod.spec.security_context.seccomp_profile.type == "RuntimeDefault"
    admin_password = pod.credentials.admin_password
    stored = json.dumps(w["api"].sanitize_for_serialization(kpod))
    for secret in w["core"].list_namespaced_secret(PODS_NAMESPACE).items:
        stored += json.dumps({k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()})
    assert admin_password not in stored
    policy = w["net"].read_namespaced_network_policy(pod.k8_name, PODS_NAMESPACE)
    assert policy.spec.policy_types == ["Ingress"]
    assert [[p.pod_selector.match_labels for p in rule._from] for rule in policy.spec.ingress] == [
        [{"app.kubernetes.io/name": "pods-service", "app.kubernetes.io/component": "proxy"}]]
    # Mallory's pod of the same id never reached the cluster, and the config names only dev's.
    assert [p.metadata.name for p in w["core"].list_namespaced_pod(PODS_NAMESPACE).items] == [pod.k8_name]
