"""networking.k8s.io/v1 NetworkPolicy through the real client, and /_kubesim/reachable."""

from __future__ import annotations

import json
import urllib.request

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from .helpers import pod_manifest, status_of


@pytest.fixture
def net(api_client):
    return client.NetworkingV1Api(api_client)


def policy(name, pod_selector=None, ingress=None, egress=None, policy_types=None, labels=None):
    spec = {"podSelector": pod_selector if pod_selector is not None else {}}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if policy_types is not None:
        spec["policyTypes"] = policy_types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def test_crud_defaults_and_selectors(net):
    created = net.create_namespaced_network_policy("default", policy(
        "web", {"matchLabels": {"app": "web"}},
        ingress=[{"ports": [{"port": 80}, {"port": "http", "protocol": "UDP"}]}],
        labels={"team": "a"}))
    assert created.kind == "NetworkPolicy" and created.api_version == "networking.k8s.io/v1"
    assert created.metadata.generation == 1 and created.metadata.uid
    assert created.spec.policy_types == ["Ingress"]
    assert [(p.port, p.protocol) for p in created.spec.ingress[0].ports] == [
        (80, "TCP"), ("http", "UDP")]
    net.create_namespaced_network_policy("default", policy(
        "deny-egress", egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8",
                                                    "except": ["10.1.0.0/16"]}}]}],
        labels={"team": "b"}))
    assert net.read_namespaced_network_policy("deny-egress", "default").spec.policy_types == \
        ["Ingress", "Egress"]
    listed = net.list_namespaced_network_policy("default", label_selector="team=a")
    assert [p.metadata.name for p in listed.items] == ["web"]
    assert [p.metadata.name for p in
            net.list_network_policy_for_all_namespaces().items] == ["deny-egress", "web"]
    patched = net.patch_namespaced_network_policy("web", "default", {
        "spec": {"podSelector": {"matchLabels": {"app": "web2"}}}})
    assert patched.metadata.generation == 2
    assert net.delete_namespaced_network_policy("web", "default")["status"] == "Success"
    with pytest.raises(ApiException) as missing:
        net.read_namespaced_network_policy("web", "default")
    assert status_of(missing.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'networkpolicies.networking.k8s.io "web" not found', "reason": "NotFound",
        "details": {"name": "web", "group": "networking.k8s.io", "kind": "networkpolicies"},
        "code": 404}
    with pytest.raises(ApiException) as dup:
        net.create_namespaced_network_policy("default", policy("deny-egress"))
    assert dup.value.status == 409


@pytest.mark.parametrize("spec_patch,field,reason", [
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}},
     "spec.podSelector.matchExpressions[0].operator", "FieldValueInvalid"),
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
     "spec.podSelector.matchExpressions[0].values", "FieldValueRequired"),
    ({"ingress": [{"ports": [{"port": 70000}]}]}, "spec.ingress[0].ports[0].port",
     "FieldValueInvalid"),
    ({"ingress": [{"ports": [{"port": 80, "protocol": "ICMP"}]}]},
     "spec.ingress[0].ports[0].protocol", "FieldValueNotSupported"),
    ({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]},
     "spec.ingress[0].ports[0].endPort", "FieldValueInvalid"),
    ({"ingress": [{"from": [{}]}]}, "spec.ingress[0].from[0]", "FieldValueRequired"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"},
                          "podSelector": {}}]}]}, "spec.egress[0].to[0]",
     "FieldValueForbidden"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
     "spec.egress[0].to[0].ipBlock.cidr", "FieldValueInvalid"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}]},
     "spec.egress[0].to[0].ipBlock.except[0]", "FieldValueInvalid"),
    ({"policyTypes": ["Sideways"]}, "spec.policyTypes[0]", "FieldValueNotSupported"),
])
def test_validation(net, spec_patch, field, reason):
    body = policy("bad")
    body["spec"].update(spec_patch)
    with pytest.raises(ApiException) as err:
        net.create_namespaced_network_policy("default", body)
    status = status_of(err.value)
    assert err.value.status == 422
    assert status["message"].startswith('NetworkPolicy.networking.k8s.io "bad" is invalid: ')
    assert status["details"]["group"] == "networking.k8s.io"
    assert {(c["field"], c["reason"]) for c in status["details"]["causes"]} == {(field, reason)}


def test_watch_delivers_policy_events(net):
    rv = net.list_namespaced_network_policy("default").metadata.resource_version
    net.create_namespaced_network_policy("default", policy("w1"))
    net.delete_namespaced_network_policy("w1", "default")
    events = [(e["type"], e["object"].metadata.name, e["object"].kind) for e in
              watch.Watch().stream(net.list_namespaced_network_policy, "default",
                                   resource_version=rv, timeout_seconds=1)]
    assert events == [("ADDED", "w1", "NetworkPolicy"), ("DELETED", "w1", "NetworkPolicy")]


def test_namespace_deletion_removes_policies(sim, core, net):
    core.create_namespace({"metadata": {"name": "team"}})
    net.create_namespaced_network_policy("team", policy("p"))
    core.delete_namespace("team")
    sim.advance(2)
    assert net.list_network_policy_for_all_namespaces().items == []


@pytest.fixture
def pods(sim, core):
    core.create_namespace({"metadata": {"name": "other", "labels": {"env": "test"}}})
    for ns, name, labels in (("default", "db", {"app": "db"}), ("default", "api", {"role": "api"}),
                             ("default", "web", {"role": "web"}),
                             ("other", "api", {"role": "api"})):
        body = pod_manifest(name, labels=labels)
        body["spec"]["containers"][0]["ports"] = [{"name": "pg", "containerPort": 5432}]
        core.create_namespaced_pod(ns, body)
    sim.advance(5)


def verdict(sim, src, dst, port=5432, protocol="TCP"):
    return sim.reachable(src, dst, port, protocol)["allowed"]


def test_reachability_follows_kubernetes_semantics(sim, net, pods):
    assert verdict(sim, "default/web", "default/db")          # nothing isolates yet
    net.create_namespaced_network_policy("default", policy(
        "db", {"matchLabels": {"app": "db"}},
        ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "api"}}}],
                  "ports": [{"port": "pg"}]}]))
    assert verdict(sim, "default/api", "default/db")           # named port resolves to 5432
    assert not verdict(sim, "default/api", "default/db", port=80)
    assert not verdict(sim, "default/web", "default/db")
    assert not verdict(sim, "other/api", "default/db")         # podSelector: own namespace only
    assert not verdict(sim, "default/api", "default/db", protocol="UDP")
    assert verdict(sim, "default/db", "default/db")            # a pod can always reach itself
    assert verdict(sim, "default/db", "default/web")           # egress is not isolated
    net.create_namespaced_network_policy("default", policy(
        "from-test-ns", {"matchLabels": {"app": "db"}},
        ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"env": "test"}},
                            "podSelector": {"matchLabels": {"role": "api"}}}]}]))
    assert verdict(sim, "other/api", "default/db")             # policies add up
    result = sim.reachable("default/web", "default/db", 5432)
    assert result["ingress"] == {"isolated": True, "allowed": False,
                                 "policies": ["db", "from-test-ns"], "allowedBy": []}
    net.create_namespaced_network_policy("default", policy(
        "lockdown", {"matchLabels": {"role": "api"}}, policy_types=["Egress"],
        egress=[{"to": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.0.0/24"]}}]}]))
    assert not verdict(sim, "default/api", "default/db")       # api's egress: pod IPs excluded
    assert verdict(sim, "default/api", "203.0.113.7") is False  # outside the allowed CIDR


def test_reachable_control_endpoint(sim, net, pods):
    net.create_namespaced_network_policy("default", policy("deny-all", {}, ingress=[]))
    url = f"{sim.url}/_kubesim/reachable?from=default/api&to=default/db&port=5432"
    with urllib.request.urlopen(url) as response:
        body = json.loads(response.read())
    assert body["allowed"] is False
    assert body["reason"] == "ingress to default/db is isolated by deny-all and no rule allows it"
    try:
        urllib.request.urlopen(f"{sim.url}/_kubesim/reachable?from=default/ghost&to=default/db")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and b"ghost" in exc.read()
    else:
        raise AssertionError("unknown pod accepted")
