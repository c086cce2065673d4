"""Create / read / replace / delete semantics and Status errors, through CoreV1Api."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .helpers import pod_manifest, raw_json, raw_request, status_of


def test_discovery_endpoints(api_client):
    version = client.VersionApi(api_client).get_code()
    assert version.major == "1" and version.git_version.startswith("v1.")
    assert client.CoreApi(api_client).get_api_versions().versions == ["v1"]
    resources = {r.name: r for r in client.CoreV1Api(api_client).get_api_resources().resources}
    assert {"pods", "pods/log", "pods/status", "services", "persistentvolumeclaims", "secrets",
            "configmaps", "events", "namespaces"} <= set(resources)
    assert resources["pods"].namespaced and "watch" in resources["pods"].verbs
    assert resources["pods"].short_names == ["po"]
    groups = client.ApisApi(api_client).get_api_versions().groups
    assert [(g.name, g.preferred_version.group_version) for g in groups] == [
        ("networking.k8s.io", "networking.k8s.io/v1")]
    networking = client.NetworkingV1Api(api_client).get_api_resources()
    assert [(r.name, r.kind, r.namespaced) for r in networking.resources] == [
        ("networkpolicies", "NetworkPolicy", True)]


def test_openapi_documents_advertise_field_validation(api_client):
    root = raw_json(api_client, "/openapi/v3")
    path, _, query = root["paths"]["api/v1"]["serverRelativeURL"].partition("?")
    doc = raw_json(api_client, path, query=[tuple(query.split("=", 1))])
    pod_item = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert pod_item["patch"]["x-kubernetes-group-version-kind"]["kind"] == "Pod"
    assert "fieldValidation" in {p["name"] for p in pod_item["parameters"]}


def test_default_objects_exist(core):
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names
    kubernetes_svc = core.read_namespaced_service("kubernetes", "default")
    assert kubernetes_svc.spec.cluster_ip == "10.96.0.1"
    node = core.list_node().items[0]
    assert node.status.allocatable["cpu"] == "4"


def test_create_pod_bookkeeping_and_defaults(core):
    pod = core.create_namespaced_pod("default", pod_manifest("web", labels={"app": "web"}))
    meta = pod.metadata
    assert meta.namespace == "default" and meta.uid and meta.generation == 1
    assert int(meta.resource_version) > 0 and meta.creation_timestamp is not None
    spec = pod.spec
    assert spec.restart_policy == "Always"
    assert spec.termination_grace_period_seconds == 30
    assert spec.dns_policy == "ClusterFirst"
    assert spec.scheduler_name == "default-scheduler"
    assert spec.service_account_name == "default"
    assert spec.enable_service_links is True
    assert {t.key for t in spec.tolerations} == {"node.kubernetes.io/not-ready",
                                                 "node.kubernetes.io/unreachable"}
    container = spec.containers[0]
    assert container.image_pull_policy == "IfNotPresent"
    assert container.termination_message_path == "/dev/termination-log"
    assert pod.status.phase == "Pending" and pod.status.qos_class == "BestEffort"
    latest = core.create_namespaced_pod("default", pod_manifest("latest", image="nginx"))
    assert latest.spec.containers[0].image_pull_policy == "Always"


def test_resource_version_is_global_and_monotonic(core):
    first = core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    second = core.create_namespaced_secret("default", {"metadata": {"name": "b"}})
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    listed = core.list_namespaced_config_map("default")
    assert int(listed.metadata.resource_version) >= int(second.metadata.resource_version)


def test_qos_classes(core):
    def make(name, resources):
        body = pod_manifest(name)
        body["spec"]["containers"][0]["resources"] = resources
        return core.create_namespaced_pod("default", body)

    guaranteed = make("g", {"limits": {"cpu": "500m", "memory": "128Mi"}})
    assert guaranteed.status.qos_class == "Guaranteed"
    assert guaranteed.spec.containers[0].resources.requests == {"cpu": "500m", "memory": "128Mi"}
    assert make("b", {"requests": {"cpu": "100m"}}).status.qos_class == "Burstable"


def test_generate_name(core):
    pod = core.create_namespaced_pod("default", {"metadata": {"generateName": "job-"},
                                                 "spec": {"containers": [{"name": "c",
                                                                          "image": "busybox"}]}})
    assert pod.metadata.name.startswith("job-") and len(pod.metadata.name) == len("job-") + 5


def test_not_found_status(core):
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("missing", "default")
    assert err.value.status == 404
    body = status_of(err.value)
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'pods "missing" not found', "reason": "NotFound",
                    "details": {"name": "missing", "kind": "pods"}, "code": 404}
    assert err.value.headers["Content-Type"] == "application/json"


def test_create_in_missing_namespace(core):
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("nope", pod_manifest("x"))
    assert err.value.status == 404
    assert status_of(err.value)["details"] == {"name": "nope", "kind": "namespaces"}


def test_already_exists(core):
    core.create_namespaced_pod("default", pod_manifest("dup"))
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", pod_manifest("dup"))
    assert err.value.status == 409
    body = status_of(err.value)
    assert body["reason"] == "AlreadyExists" and body["message"] == 'pods "dup" already exists'


def test_invalid_name_is_422_with_causes(core):
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", pod_manifest("Bad_Name"))
    assert err.value.status == 422
    body = status_of(err.value)
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('Pod "Bad_Name" is invalid: metadata.name: Invalid value: '
                                      '"Bad_Name": a lowercase RFC 1123 subdomain')
    assert body["details"]["kind"] == "Pod"
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert body["details"]["causes"][0]["reason"] == "FieldValueInvalid"


def test_service_name_must_be_dns1035(core):
    with pytest.raises(ApiException) as err:
        core.create_namespaced_service("default", {"metadata": {"name": "1svc"},
                                                   "spec": {"ports": [{"port": 80}]}})
    assert err.value.status == 422
    assert "DNS-1035" in status_of(err.value)["message"]


def test_pod_spec_validation(core):
    body = {"metadata": {"name": "v"}, "spec": {"containers": [{"name": "c"}],
                                                "restartPolicy": "Sometimes"}}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body)
    causes = {c["field"]: c["reason"] for c in status_of(err.value)["details"]["causes"]}
    assert causes == {"spec.containers[0].image": "FieldValueRequired",
                      "spec.restartPolicy": "FieldValueNotSupported"}


def test_label_validation(core):
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", {"metadata": {
            "name": "l", "labels": {"app": "not valid!"}}})
    assert err.value.status == 422


def test_namespace_mismatch_is_400(core):
    body = pod_manifest("x")
    body["metadata"]["namespace"] = "other"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body)
    assert err.value.status == 400
    assert status_of(err.value)["message"] == ("the namespace of the provided object does not "
                                               "match the namespace sent on the request")


def test_resource_version_on_create_is_400(core):
    body = pod_manifest("x")
    body["metadata"]["resourceVersion"] = "5"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body)
    assert err.value.status == 400


def test_dry_run_create_persists_nothing(core):
    pod = core.create_namespaced_pod("default", pod_manifest("dry"), dry_run="All")
    assert pod.metadata.uid and pod.spec.restart_policy == "Always"
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("dry", "default")
    assert err.value.status == 404
    assert core.list_namespaced_event("default").items == []


def test_replace_with_stale_resource_version_conflicts(core):
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "cm"},
                                                            "data": {"a": "1"}})
    created.data = {"a": "2"}
    updated = core.replace_namespaced_config_map("cm", "default", created)
    assert updated.data == {"a": "2"}
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    created.data = {"a": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("cm", "default", created)
    assert err.value.status == 409
    body = status_of(err.value)
    assert body["reason"] == "Conflict"
    assert body["message"] == ('Operation cannot be fulfilled on configmaps "cm": the object has '
                               'been modified; please apply your changes to the latest version '
                               'and try again')


def test_noop_update_keeps_resource_version(core):
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "same"},
                                                            "data": {"a": "1"}})
    again = core.replace_namespaced_config_map("same", "default", created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_replace_pod_spec_is_mostly_immutable(core):
    pod = core.create_namespaced_pod("default", pod_manifest("imm"))
    pod.spec.containers[0].image = "nginx:1.28"
    updated = core.replace_namespaced_pod("imm", "default", pod)
    assert updated.spec.containers[0].image == "nginx:1.28"
    updated.spec.restart_policy = "Never"
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_pod("imm", "default", updated)
    assert err.value.status == 422
    assert "pod updates may not change fields" in status_of(err.value)["message"]


def test_status_subresource_separation(core, sim):
    core.create_namespaced_pod("default", pod_manifest("st"))
    patched = core.patch_namespaced_pod("st", "default", {"status": {"phase": "Failed"}})
    assert patched.status.phase == "Pending"  # main endpoint ignores status
    via_status = core.patch_namespaced_pod_status(
        "st", "default", {"status": {"message": "hello"}, "spec": {"restartPolicy": "Never"}})
    assert via_status.status.message == "hello"
    assert via_status.spec.restart_policy == "Always"  # /status ignores spec
    assert core.read_namespaced_pod_status("st", "default").status.message == "hello"


def test_delete_responses_by_kind(core):
    core.create_namespaced_service("default", {"metadata": {"name": "svc"},
                                               "spec": {"ports": [{"port": 80}]}})
    deleted_svc = core.delete_namespaced_service("svc", "default")
    assert deleted_svc.kind == "Service"
    core.create_namespaced_secret("default", {"metadata": {"name": "sec"}})
    status = core.delete_namespaced_secret("sec", "default")  # client types this as object
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"]["name"] == "sec" and status["details"]["kind"] == "secrets"
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_secret("sec", "default")
    assert err.value.status == 404


def test_delete_preconditions(core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "pre"}})
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_config_map("pre", "default",
                                          body=client.V1DeleteOptions(
                                              preconditions=client.V1Preconditions(uid="other")))
    assert err.value.status == 409
    assert "Precondition failed: UID in precondition: other" in status_of(err.value)["message"]


def test_service_cluster_ip_allocation(core):
    a = core.create_namespaced_service("default", {"metadata": {"name": "a"},
                                                   "spec": {"selector": {"app": "a"},
                                                            "ports": [{"port": 80}]}})
    b = core.create_namespaced_service("default", {"metadata": {"name": "b"},
                                                   "spec": {"ports": [{"port": 80}]}})
    assert a.spec.cluster_ip != b.spec.cluster_ip
    assert a.spec.cluster_ips == [a.spec.cluster_ip]
    assert a.spec.type == "ClusterIP" and a.spec.ports[0].target_port == 80
    assert a.spec.ports[0].protocol == "TCP" and a.spec.session_affinity == "None"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_service("default", {"metadata": {"name": "c"},
                                                   "spec": {"clusterIP": a.spec.cluster_ip,
                                                            "ports": [{"port": 80}]}})
    assert err.value.status == 422 and "already allocated" in status_of(err.value)["message"]
    a.spec.cluster_ip = "10.96.200.200"
    a.spec.cluster_ips = ["10.96.200.200"]
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_service("a", "default", a)
    assert "field is immutable" in status_of(err.value)["message"]
    headless = core.create_namespaced_service("default", {"metadata": {"name": "h"},
                                                          "spec": {"clusterIP": "None",
                                                                   "ports": [{"port": 80}]}})
    assert headless.spec.cluster_ip == "None"
    node_port = core.create_namespaced_service("default", {"metadata": {"name": "np"},
                                                           "spec": {"type": "NodePort",
                                                                    "ports": [{"port": 80}]}})
    assert 30000 <= node_port.spec.ports[0].node_port <= 32767


def test_secret_string_data_and_base64(core):
    secret = core.create_namespaced_secret("default", {"metadata": {"name": "s"},
                                                       "stringData": {"token": "abc"}})
    assert secret.type == "Opaque" and secret.string_data is None
    assert base64.b64decode(secret.data["token"]) == b"abc"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", {"metadata": {"name": "bad"},
                                                  "data": {"k": "not base64!"}})
    assert err.value.status == 400
    immutable = core.create_namespaced_secret("default", {"metadata": {"name": "imm"},
                                                          "immutable": True,
                                                          "data": {"k": "YQ=="}})
    immutable.data = {"k": "Yg=="}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("imm", "default", immutable)
    assert err.value.status == 422


def test_configmap_roundtrip_and_delete_collection(core):
    for i in range(3):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"c{i}",
                                                                   "labels": {"grp": "x"}},
                                                      "data": {"i": str(i)}})
    core.delete_collection_namespaced_config_map("default", label_selector="grp=x")
    assert core.list_namespaced_config_map("default").items == []


def test_namespace_lifecycle(core, sim):
    ns = core.create_namespace({"metadata": {"name": "team-a"}})
    assert ns.status.phase == "Active"
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "team-a"
    core.create_namespaced_config_map("team-a", {"metadata": {"name": "x"}})
    deleting = core.delete_namespace("team-a")  # a Namespace; the client types it as object
    assert deleting["kind"] == "Namespace" and deleting["status"]["phase"] == "Terminating"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("team-a", {"metadata": {"name": "y"}})
    assert err.value.status == 403
    sim.advance(2)
    with pytest.raises(ApiException) as err:
        core.read_namespace("team-a")
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        core.delete_namespace("default")
    assert err.value.status == 403


def test_pvc_binds_and_is_protected(core, sim):
    body = {"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}
    pvc = core.create_namespaced_persistent_volume_claim("default", body)
    assert pvc.status.phase == "Pending" and pvc.spec.storage_class_name == "standard"
    assert "kubernetes.io/pvc-protection" in pvc.metadata.finalizers
    sim.advance(2)
    bound = core.read_namespaced_persistent_volume_claim("data", "default")
    assert bound.status.phase == "Bound" and bound.spec.volume_name == f"pvc-{pvc.metadata.uid}"
    assert bound.status.capacity == {"storage": "1Gi"}
    pod = pod_manifest("user", volumes=[{"name": "d", "persistentVolumeClaim":
                                         {"claimName": "data"}}])
    core.create_namespaced_pod("default", pod)
    sim.advance(3)
    deleted = core.delete_namespaced_persistent_volume_claim("data", "default")
    assert deleted.metadata.deletion_timestamp is not None
    sim.advance(1)
    assert core.read_namespaced_persistent_volume_claim("data", "default").metadata.finalizers
    core.delete_namespaced_pod("user", "default", grace_period_seconds=0)
    sim.advance(1)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_persistent_volume_claim("data", "default")
    assert err.value.status == 404


def test_pvc_validation(core):
    with pytest.raises(ApiException) as err:
        core.create_namespaced_persistent_volume_claim("default", {"metadata": {"name": "p"},
                                                                   "spec": {}})
    fields = {c["field"] for c in status_of(err.value)["details"]["causes"]}
    assert fields == {"spec.accessModes", "spec.resources[storage]"}


def test_owner_references_are_garbage_collected(core, sim):
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    core.create_namespaced_secret("default", {"metadata": {"name": "dep",
                                                           "ownerReferences": [ref]}})
    core.delete_namespaced_config_map("owner", "default")
    with pytest.raises(ApiException) as err:
        core.read_namespaced_secret("dep", "default")
    assert err.value.status == 404


def test_wrong_token_is_401_and_anonymous_is_allowed(sim):
    cfg = client.Configuration(host=sim.url, api_key={"BearerToken": "wrong"},
                               api_key_prefix={"BearerToken": "Bearer"})
    with client.ApiClient(cfg) as wrong:
        with pytest.raises(ApiException) as err:
            client.CoreV1Api(wrong).list_namespaced_pod("default")
    assert err.value.status == 401
    assert status_of(err.value)["reason"] == "Unauthorized"
    # kubectl sends no token over plain http; kubesim treats that as an anonymous admin.
    with client.ApiClient(client.Configuration(host=sim.url)) as anonymous:
        assert client.CoreV1Api(anonymous).list_namespaced_pod("default").items == []


def test_unsupported_body_media_type_is_415(api_client):
    response = raw_request(api_client, "POST", "/api/v1/namespaces/default/configmaps",
                           headers={"Content-Type": "text/plain"}, body="x")
    assert response.status == 415
    assert json.loads(response.read())["reason"] == "UnsupportedMediaType"
    garbage = raw_request(api_client, "POST", "/api/v1/namespaces/default/configmaps",
                          headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
                          body="x")
    assert garbage.status == 400


def test_openapi_v2_protobuf_and_json(api_client):
    proto = raw_request(api_client, "GET", "/openapi/v2", headers={
        "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert proto.status == 200 and proto.read() == b""
    assert raw_json(api_client, "/openapi/v2")["swagger"] == "2.0"


def test_unknown_fields_are_dropped_with_a_warning(api_client, core):
    body = pod_manifest("typo")
    body["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    body["spec"]["bogus"] = {"x": 1}
    response = raw_request(api_client, "POST", "/api/v1/namespaces/default/pods", body=body)
    assert response.status == 201
    assert "unknown field \\\"spec.bogus\\\"" in response.getheader("Warning")
    stored = core.read_namespaced_pod("typo", "default").to_dict()
    assert "bogus" not in json.dumps(stored, default=str)


def test_strict_field_validation_rejects_unknown_fields(api_client):
    body = pod_manifest("strict")
    body["spec"]["containers"][0]["imagee"] = "x"
    response = raw_request(api_client, "POST", "/api/v1/namespaces/default/pods", body=body,
                           query=[("fieldValidation", "Strict")])
    assert response.status == 400
    status = json.loads(response.read())
    assert status["message"] == ('Pod in version "v1" cannot be handled as a Pod: strict decoding '
                                 'error: unknown field "spec.containers[0].imagee"')


@pytest.mark.parametrize("method,path", [
    ("PUT", "/api/v1/namespaces/default/pods"),
    ("DELETE", "/api/v1/namespaces/default/pods/x/status"),
    ("POST", "/api/v1/namespaces/default/pods/x"),
    ("DELETE", "/api/v1/namespaces"),
    ("POST", "/api/v1/nodes"),
    ("PATCH", "/api/v1/nodes/kubesim-node/status"),
])
def test_method_not_allowed(api_client, method, path):
    response = raw_request(api_client, method, path, body={"metadata": {"name": "x"}},
                           headers={"Content-Type": "application/merge-patch+json"}
                           if method == "PATCH" else None)
    assert response.status == 405
    assert json.loads(response.read())["reason"] == "MethodNotAllowed"


def test_unknown_resource_is_404(api_client):
    response = raw_request(api_client, "GET", "/api/v1/namespaces/default/widgets")
    assert response.status == 404
    assert json.loads(response.read())["reason"] == "NotFound"
