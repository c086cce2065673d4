"""RBAC in kubesim (``--rbac``): ServiceAccount tokens, Roles and bindings, kube-apiserver's 403,
and the per-request usage the deployment tests measure. Driven by the real client."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

import kubesim
from kubesim.rbac import request_attributes
from kubesim.rbac.files import documents, rbac_objects

from .helpers import pod_manifest, status_of
from .test_cli import ROOT, wait_for

RBAC = "rbac.authorization.k8s.io/v1"
SA_USER = "system:serviceaccount:apps:runner"


def role(name, namespace, rules, kind="Role"):
    meta = {"name": name, "namespace": namespace} if kind == "Role" else {"name": name}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta, "rules": rules}


def binding(name, namespace, role_name, role_kind="Role", subject_namespace="apps",
            kind="RoleBinding"):
    meta = {"name": name, "namespace": namespace} if kind == "RoleBinding" else {"name": name}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": subject_namespace}]}


SERVICE_ACCOUNT = {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "runner", "namespace": "apps"}}
POD_READER = role("pod-reader", "work", [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["allowed"]},
])


@pytest.fixture(scope="module")
def rbac_server():
    sim = kubesim.start_in_thread(config=kubesim.Config(rbac=True, seed=7))
    yield sim
    sim.stop()


@pytest.fixture
def rbac_sim(rbac_server):
    rbac_server.reset()
    rbac_server.clear_rbac()
    admin = admin_core(rbac_server)
    for ns in ("apps", "work", "other"):
        admin.create_namespace({"metadata": {"name": ns}})
    rbac_server.apply_rbac([SERVICE_ACCOUNT, POD_READER, binding("read-pods", "work", "pod-reader")])
    yield rbac_server


def admin_core(sim):
    configuration = client.Configuration(host=sim.url)
    configuration.api_key = {"BearerToken": sim.token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return client.CoreV1Api(client.ApiClient(configuration))


def core_with_token(sim, token):
    configuration = client.Configuration(host=sim.url)
    if token is not None:
        configuration.api_key = {"BearerToken": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return client.CoreV1Api(client.ApiClient(configuration))


@pytest.fixture
def runner(rbac_sim):
    """CoreV1Api authenticated as ServiceAccount apps/runner."""
    return core_with_token(rbac_sim, rbac_sim.service_account_token("apps", "runner"))


def forbidden(call):
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == 403
    return status_of(info.value)


# --- attributes: HTTP method and path to verb and resource, as kube-apiserver derives them ------

@pytest.mark.parametrize("method, path, query, expected", [
    ("GET", "/api/v1/namespaces/ns/pods/p", {}, ("get", "", "pods", "", "ns", "p")),
    ("GET", "/api/v1/namespaces/ns/pods", {}, ("list", "", "pods", "", "ns", "")),
    ("GET", "/api/v1/namespaces/ns/pods", {"watch": "true"}, ("watch", "", "pods", "", "ns", "")),
    ("GET", "/api/v1/watch/namespaces/ns/pods", {}, ("watch", "", "pods", "", "ns", "")),
    ("GET", "/api/v1/pods", {}, ("list", "", "pods", "", "", "")),
    ("GET", "/api/v1/namespaces/ns/pods", {"fieldSelector": "metadata.name=p"},
     ("list", "", "pods", "", "ns", "p")),
    ("POST", "/api/v1/namespaces/ns/pods", {}, ("create", "", "pods", "", "ns", "")),
    ("PUT", "/api/v1/namespaces/ns/pods/p", {}, ("update", "", "pods", "", "ns", "p")),
    ("PATCH", "/api/v1/namespaces/ns/pods/p/status", {}, ("patch", "", "pods", "status", "ns", "p")),
    ("DELETE", "/api/v1/namespaces/ns/pods/p", {}, ("delete", "", "pods", "", "ns", "p")),
    ("DELETE", "/api/v1/namespaces/ns/pods", {}, ("deletecollection", "", "pods", "", "ns", "")),
    ("GET", "/api/v1/namespaces/ns/pods/p/log", {}, ("get", "", "pods", "log", "ns", "p")),
    ("POST", "/api/v1/namespaces/ns/pods/p/exec", {}, ("create", "", "pods", "exec", "ns", "p")),
    ("GET", "/api/v1/namespaces/ns", {}, ("get", "", "namespaces", "", "ns", "ns")),
    ("PUT", "/api/v1/namespaces/ns/finalize", {}, ("update", "", "namespaces", "finalize", "ns", "ns")),
    ("GET", "/api/v1/nodes", {}, ("list", "", "nodes", "", "", "")),
    ("GET", "/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies", {"watch": "1"},
     ("watch", "networking.k8s.io", "networkpolicies", "", "ns", "")),
])
def test_request_attributes(method, path, query, expected):
    attrs = request_attributes(method, path, query)
    assert attrs.resource_request
    assert (attrs.verb, attrs.api_group, attrs.resource, attrs.subresource, attrs.namespace,
            attrs.name) == expected


@pytest.mark.parametrize("path", ["/api", "/api/v1", "/apis", "/apis/apps", "/version", "/healthz"])
def test_discovery_and_health_are_non_resource_requests(path):
    attrs = request_attributes("GET", path, {})
    assert not attrs.resource_request and attrs.verb == "get" and attrs.path == path


# --- authorization ---------------------------------------------------------------------------

def test_role_grants_its_verbs_in_its_namespace_only(rbac_sim, runner):
    admin = admin_core(rbac_sim)
    admin.create_namespaced_pod("work", pod_manifest("p"))
    assert [p.metadata.name for p in runner.list_namespaced_pod("work").items] == ["p"]
    assert runner.read_namespaced_pod("p", "work").metadata.name == "p"

    status = forbidden(lambda: runner.create_namespaced_pod("work", pod_manifest("q")))
    assert status["reason"] == "Forbidden"
    assert status["message"] == (f'pods is forbidden: User "{SA_USER}" cannot create resource "pods" '
                                 'in API group "" in the namespace "work"')
    assert status["details"] == {"kind": "pods"}
    status = forbidden(lambda: runner.list_namespaced_pod("other"))
    assert status["message"].endswith('cannot list resource "pods" in API group "" in the namespace "other"')
    status = forbidden(lambda: runner.delete_namespaced_pod("p", "work"))
    assert status["message"].startswith('pods "p" is forbidden: ')
    assert status["details"] == {"name": "p", "kind": "pods"}
    assert admin.read_namespaced_pod("p", "work").metadata.deletion_timestamp is None


def test_a_resource_does_not_cover_its_subresources(rbac_sim, runner):
    admin_core(rbac_sim).create_namespaced_pod("work", pod_manifest("p"))
    rbac_sim.advance(5)
    status = forbidden(lambda: runner.read_namespaced_pod_log("p", "work"))
    assert 'cannot get resource "pods/log" in API group ""' in status["message"]
    rbac_sim.apply_rbac([role("pod-reader", "work", [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["*/log"], "verbs": ["get"]}])])
    assert "starting container" in runner.read_namespaced_pod_log("p", "work")


def test_watch_is_its_own_verb(rbac_sim, runner):
    def first_event():
        for event in watch.Watch().stream(runner.list_namespaced_pod, "work", timeout_seconds=1):
            return event
    status = forbidden(first_event)
    assert 'cannot watch resource "pods"' in status["message"]
    rbac_sim.apply_rbac([role("pod-reader", "work", [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}])])
    admin_core(rbac_sim).create_namespaced_pod("work", pod_manifest("w"))
    assert first_event()["object"].metadata.name == "w"


def test_resource_names_restrict_named_requests(rbac_sim, runner):
    admin = admin_core(rbac_sim)
    for name in ("allowed", "secret-ish"):
        admin.create_namespaced_config_map("work", {"metadata": {"name": name}, "data": {"k": "v"}})
    assert runner.read_namespaced_config_map("allowed", "work").data == {"k": "v"}
    forbidden(lambda: runner.read_namespaced_config_map("secret-ish", "work"))
    forbidden(lambda: runner.list_namespaced_config_map("work"))  # a list has no name to match


def test_cluster_role_via_role_binding_is_namespaced_via_cluster_binding_is_global(rbac_sim, runner):
    rbac_sim.apply_rbac([role("node-and-event-reader", None, [
        {"apiGroups": [""], "resources": ["nodes", "events"], "verbs": ["list"]}], kind="ClusterRole"),
        binding("events-in-other", "other", "node-and-event-reader", role_kind="ClusterRole")])
    runner.list_namespaced_event("other")
    forbidden(lambda: runner.list_namespaced_event("apps"))
    status = forbidden(runner.list_node)
    assert status["message"] == (f'nodes is forbidden: User "{SA_USER}" cannot list resource "nodes" '
                                 'in API group "" at the cluster scope')
    rbac_sim.apply_rbac([binding("everywhere", None, "node-and-event-reader", role_kind="ClusterRole",
                                 kind="ClusterRoleBinding")])
    runner.list_namespaced_event("apps")
    assert runner.list_node().items


def test_binding_to_a_missing_role_says_so(rbac_sim, runner):
    rbac_sim.apply_rbac([binding("dangling", "apps", "nonexistent")])
    status = forbidden(lambda: runner.list_namespaced_pod("apps"))
    assert status["message"].endswith(
        'in the namespace "apps": RBAC: role.rbac.authorization.k8s.io "nonexistent" not found')


def test_service_account_subject_defaults_to_the_binding_namespace(rbac_sim):
    rbac_sim.apply_rbac([{**SERVICE_ACCOUNT, "metadata": {"name": "runner", "namespace": "work"}},
                         {**binding("local", "work", "pod-reader"),
                          "subjects": [{"kind": "ServiceAccount", "name": "runner"}]}])
    local = core_with_token(rbac_sim, rbac_sim.service_account_token("work", "runner"))
    local.list_namespaced_pod("work")


def test_aggregated_cluster_role_collects_selected_rules(rbac_sim, runner):
    rbac_sim.apply_rbac([
        {**role("aggregate", None, [], kind="ClusterRole"),
         "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]}},
        {**role("piece", None, [{"apiGroups": [""], "resources": ["services"], "verbs": ["list"]}],
                kind="ClusterRole"), "metadata": {"name": "piece", "labels": {"agg": "yes"}}},
        binding("agg", "apps", "aggregate", role_kind="ClusterRole")])
    runner.list_namespaced_service("apps")


def test_admin_token_is_cluster_admin_and_anonymous_is_not(rbac_sim):
    admin = admin_core(rbac_sim)
    admin.create_namespaced_pod("other", pod_manifest("a"))
    assert admin.list_node().items
    anonymous = core_with_token(rbac_sim, None)
    status = forbidden(lambda: anonymous.list_namespaced_pod("other"))
    assert 'User "system:anonymous" cannot list resource "pods"' in status["message"]
    with urllib.request.urlopen(f"{rbac_sim.url}/version") as response:  # public info
        assert json.loads(response.read())["major"] == "1"


def test_unknown_or_revoked_token_is_401(rbac_sim):
    token = rbac_sim.service_account_token("apps", "runner")
    with pytest.raises(ApiException) as info:
        core_with_token(rbac_sim, "made-up").list_namespaced_pod("work")
    assert info.value.status == 401
    rbac_sim.clear_rbac()
    with pytest.raises(ApiException) as info:
        core_with_token(rbac_sim, token).list_namespaced_pod("work")
    assert info.value.status == 401


def test_tokens_only_for_loaded_service_accounts(rbac_sim):
    with pytest.raises(KeyError):
        rbac_sim.service_account_token("apps", "nobody")


def test_invalid_objects_are_refused_whole(rbac_sim):
    with pytest.raises(ValueError):
        rbac_sim.apply_rbac([role("ok", "work", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]),
                             {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}])
    keys = {(o["kind"], o["name"]) for o in rbac_sim.call(
        lambda c: [{"kind": k, "name": n} for k, _, n in c.access.policy.objects])}
    assert ("Role", "ok") not in keys


# --- usage: what each client used -------------------------------------------------------------

def test_usage_records_each_users_verbs_and_refusals(rbac_sim, runner):
    admin_core(rbac_sim).create_namespaced_pod("work", pod_manifest("p"))
    runner.list_namespaced_pod("work")
    runner.list_namespaced_pod("work")
    runner.read_namespaced_pod("p", "work")
    forbidden(lambda: runner.delete_namespaced_pod("p", "work"))
    rows = {(u["verb"], u["resource"], u["subresource"], u["namespace"]): (u["count"], u["forbidden"])
            for u in rbac_sim.usage(user=SA_USER)}
    assert rows == {("list", "pods", "", "work"): (2, 0), ("get", "pods", "", "work"): (1, 0),
                    ("delete", "pods", "", "work"): (1, 1)}
    assert {u["user"] for u in rbac_sim.usage()} == {SA_USER, "kubesim-admin"}


def test_without_rbac_tokens_identify_users_and_everything_is_allowed(tmp_path):
    with kubesim.start_in_thread() as sim:
        sim.apply_rbac([SERVICE_ACCOUNT])
        sa = core_with_token(sim, sim.service_account_token("apps", "runner"))
        sa.create_namespaced_pod("default", pod_manifest("free"))
        assert sim.usage(user=SA_USER)[0]["verb"] == "create"
        with pytest.raises(ApiException) as info:
            core_with_token(sim, "wrong").list_namespaced_pod("default")
        assert info.value.status == 401


def test_control_api_loads_objects_issues_tokens_and_reports_usage(rbac_sim):
    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{rbac_sim.url}{path}", data=data, method=method)
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    applied = call("POST", "/_kubesim/rbac", {"objects": [
        role("svc", "apps", [{"apiGroups": [""], "resources": ["services"], "verbs": ["list"]}]),
        binding("svc", "apps", "svc")]})
    assert {"kind": "Role", "namespace": "apps", "name": "svc"} in applied["applied"]
    issued = call("POST", "/_kubesim/rbac/token", {"namespace": "apps", "name": "runner"})
    assert issued["user"] == SA_USER
    core_with_token(rbac_sim, issued["token"]).list_namespaced_service("apps")
    usage = call("GET", f"/_kubesim/rbac/usage?user={SA_USER}")["usage"]
    assert [(u["verb"], u["resource"]) for u in usage] == [("list", "services")]
    assert call("GET", "/_kubesim/rbac")["enforced"] is True


# --- the command line: --rbac, --rbac-file, --service-account ---------------------------------

RENDERED = """\
apiVersion: v1
kind: Namespace
metadata:
  name: apps
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
  namespace: apps
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-lister
  namespace: apps
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: pod-lister
  namespace: apps
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-lister}
subjects: [{kind: ServiceAccount, name: runner, namespace: apps}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ignored
"""


def test_rbac_files_pick_rbac_objects():
    kinds = [o["kind"] for o in rbac_objects(documents(RENDERED))]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding"]


def test_cli_enforces_loaded_rbac_as_the_service_account(tmp_path):
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(RENDERED)
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "kubesim", "--port", "0", "--kubeconfig", str(kubeconfig),
                             "--rbac", "--rbac-file", str(rendered), "--service-account", "apps/runner",
                             "--namespace", "apps", "--log-level", "WARNING"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: kubeconfig.exists() or proc.poll() is not None)
        assert proc.poll() is None, proc.stderr.read().decode()
        api = config.new_client_from_config(config_file=str(kubeconfig))
        core = client.CoreV1Api(api)
        assert core.list_namespaced_pod("apps").items == []
        status = forbidden(lambda: core.create_namespaced_pod("apps", pod_manifest("x")))
        assert SA_USER in status["message"]
        api.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
