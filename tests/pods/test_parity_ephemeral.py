"""Ephemeral storage as upstream (its ``tests/test_pods.py``): defaults -1 (unlimited), bounds
from settings, -1 only while a default is -1, in the Kubernetes manifest, in templates."""
import json

import pytest

from pods.models import Pod


def create(client, pod_id="mypod", **resources):
    return client.post("/v3/pods", json.dumps({"pod_id": pod_id, "image": "kubesim/happy", "resources": resources}),
                       content_type="application/json")


def test_defaults_are_unlimited(tenant, alice):
    resources = create(alice).json()["result"]["resources"]
    assert resources["ephemeral_storage_request"] == -1 and resources["ephemeral_storage_limit"] == -1


@pytest.mark.parametrize("given, request_, limit", [
    ({"ephemeral_storage_request": 1024, "ephemeral_storage_limit": 2048}, 1024, 2048),
    ({"ephemeral_storage_request": 512}, 512, -1),
    ({"ephemeral_storage_limit": 8192}, -1, 8192),
    ({"ephemeral_storage_request": -1, "ephemeral_storage_limit": -1}, -1, -1),
    ({"ephemeral_storage_request": 5000, "ephemeral_storage_limit": -1}, 5000, -1),  # -1 skips request <= limit
])
def test_requests_and_limits_are_kept(tenant, alice, given, request_, limit):
    response = create(alice, **given)
    assert response.status_code == 200, response.json()
    resources = response.json()["result"]["resources"]
    assert (resources["ephemeral_storage_request"], resources["ephemeral_storage_limit"]) == (request_, limit)


def test_out_of_bounds_in_upstreams_words(tenant, alice):
    response = create(alice, ephemeral_storage_request=20000)
    assert response.status_code == 400
    assert any("ephemeral_storage_x out of bounds" in m and "Maximum: 18432" in m for m in response.json()["message"])
    assert not Pod.objects.exists()


def test_request_over_limit_is_refused(tenant, alice):
    response = create(alice, ephemeral_storage_request=4096, ephemeral_storage_limit=2048)
    assert response.status_code == 400
    assert any(m.startswith("resources.ephemeral_storage_request:") for m in response.json()["message"])


def test_unlimited_only_while_a_default_is_unlimited(tenant, alice, settings):
    settings.PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT = 256
    settings.PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT = 4096
    refused = create(alice, ephemeral_storage_limit=-1)
    assert refused.status_code == 400
    assert any("-1 (unlimited) is not allowed" in m for m in refused.json()["message"])
    resources = create(alice).json()["result"]["resources"]
    assert (resources["ephemeral_storage_request"], resources["ephemeral_storage_limit"]) == (256, 4096)


def test_update_changes_only_the_keys_sent(tenant, alice):
    create(alice, ephemeral_storage_request=1024, ephemeral_storage_limit=2048)
    response = alice.put("/v3/pods/mypod", {"resources": {"ephemeral_storage_limit": 4096}}, format="json")
    resources = response.json()["result"]["resources"]
    assert (resources["ephemeral_storage_request"], resources["ephemeral_storage_limit"]) == (1024, 4096)
    assert resources["cpu_limit"] == 2000


def test_the_manifest_carries_bounded_values_in_canonical_form(tenant, alice, sim, core):
    from workers.spawner import reconcile_pod

    cases = {"both": (1024, 2048), "unlimited": (-1, -1), "mixed": (-1, 2048), "skip": (5000, -1)}
    for pod_id, (request_, limit) in cases.items():
        assert create(alice, pod_id, ephemeral_storage_request=request_,
                      ephemeral_storage_limit=limit).status_code == 200
        assert reconcile_pod(Pod.objects.get(pod_id=pod_id).pk) == "created"
    seen = {}
    for pod_id in cases:
        resources = core.read_namespaced_pod(f"pods-local-dev-{pod_id}", "default").spec.containers[0].resources
        seen[pod_id] = ((resources.requests or {}).get("ephemeral-storage"),
                        (resources.limits or {}).get("ephemeral-storage"))
    assert seen["both"] == ("1Gi", "2Gi")
    assert seen["unlimited"] == (None, None)
    assert seen["mixed"][1] == "2Gi" and seen["mixed"][0] in (None, "2Gi")  # Kubernetes may copy the limit
    assert seen["skip"] == ("5000Mi", None)
