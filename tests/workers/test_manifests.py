"""Manifest builders: pure functions, validated against the Kubernetes OpenAPI schema."""
import kubernetes_validate
import pytest

from workers.kube.manifests import (
    LABEL_INSTANCE,
    LABEL_MANAGED_BY,
    LABEL_POD_UID,
    PodSpec,
    pod_manifest,
    service_manifest,
)

K8S_VERSION = "1.28.0"


def spec(**overrides):
    values = dict(name="pods-local-dev-mypod", namespace="default", tenant_id="dev", pod_id="mypod",
                  pod_uid="5f0c7d1e-1111-4222-8333-944455556666", instance_id="0b9d2f6e-aaaa-4bbb-8ccc-9ddddeeeefff",
                  image="kubesim/web:1", env={"B": "2", "A": "1"}, ports={"default": 5000})
    values.update(overrides)
    return PodSpec(**values)


def validate(manifest):
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_pod_manifest_is_valid_and_locked_down():
    manifest = pod_manifest(spec(command=["python"], args=["-m", "http.server", "5000"]))
    validate(manifest)
    pod = manifest["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    container = pod["containers"][0]
    assert container["command"] == ["python"] and container["args"] == ["-m", "http.server", "5000"]
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert container["ports"] == [{"containerPort": 5000, "protocol": "TCP", "name": "default"}]
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "256Mi"},
                                      "limits": {"cpu": "2000m", "memory": "3072Mi"}}
    assert manifest["metadata"]["labels"][LABEL_MANAGED_BY] == "pods-service"


def test_service_manifest_is_valid_and_selects_this_instance():
    manifest = service_manifest(spec(ports={"default": 7474, "bolt": 7687}))
    validate(manifest)
    assert manifest["spec"]["type"] == "ClusterIP"
    assert manifest["spec"]["selector"] == {LABEL_POD_UID: spec().pod_uid, LABEL_INSTANCE: spec().instance_id}
    assert [p["port"] for p in manifest["spec"]["ports"]] == [7687, 7474]


def test_no_ports_means_no_service():
    assert service_manifest(spec(ports={})) is None
    validate(pod_manifest(spec(ports={})))


def test_gpus_queue_selector_and_tolerations():
    manifest = pod_manifest(spec(gpus=2, node_selector={"pool": "gpu"},
                                 tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]))
    validate(manifest)
    resources = manifest["spec"]["containers"][0]["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == "2"
    assert manifest["spec"]["nodeSelector"] == {"pool": "gpu"}


@pytest.mark.parametrize("key,named", [("default", True), ("averyveryverylongportname", False), ("8080", False)])
def test_port_names_only_when_valid_iana_names(key, named):
    manifest = pod_manifest(spec(ports={key: 8080}))
    validate(manifest)
    assert ("name" in manifest["spec"]["containers"][0]["ports"][0]) is named


def test_duplicate_ports_are_exposed_once_in_the_container():
    manifest = pod_manifest(spec(ports={"web": 8080, "alt": 8080}))
    validate(manifest)
    assert len(manifest["spec"]["containers"][0]["ports"]) == 1


def test_ephemeral_files_become_secret_volumes_owned_by_the_pod():
    import base64

    from workers.kube.manifests import file_secret_name, pod_secrets

    s = spec(files={"/etc/app/conf.yaml": ("a: 1\n", "0640")})
    manifest = pod_manifest(s)
    validate(manifest)
    assert manifest["spec"]["volumes"][0]["secret"] == {"secretName": file_secret_name(s, "/etc/app/conf.yaml"),
                                                        "defaultMode": 0o640}
    [secret] = pod_secrets(s, owner_uid="0b9d2f6e-aaaa-4bbb-8ccc-000000000000")
    validate(secret)
    assert secret["kind"] == "Secret" and secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["conf.yaml"]).decode() == "a: 1\n"
    assert secret["metadata"]["ownerReferences"][0]["uid"] == "0b9d2f6e-aaaa-4bbb-8ccc-000000000000"
    assert len(secret["metadata"]["name"]) <= 63


def test_credential_values_come_from_a_secret_never_plain():
    from workers.kube.manifests import env_secret_name, pod_secrets

    s = spec(env={"PLAIN": "x"}, secret_env={"PASSWORD": "hunter2", "PODS_CREDENTIAL_USER_PASSWORD": "hunter2"},
             args=["--password=$(PODS_CREDENTIAL_USER_PASSWORD)"])
    manifest = pod_manifest(s)
    validate(manifest)
    assert "hunter2" not in str(manifest)
    env = {e["name"]: e for e in manifest["spec"]["containers"][0]["env"]}
    assert env["PLAIN"] == {"name": "PLAIN", "value": "x"}
    assert env["PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": env_secret_name(s), "key": "PASSWORD"}}
    [secret] = pod_secrets(s, owner_uid="u")
    assert secret["metadata"]["name"] == env_secret_name(s) and set(secret["data"]) == set(s.secret_env)


def test_every_container_drops_every_capability_and_escalation():
    manifest = pod_manifest(spec())
    validate(manifest)
    assert manifest["spec"]["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert manifest["spec"]["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]}}


def test_a_template_adds_back_capabilities_and_runs_as_non_root():
    manifest = pod_manifest(spec(capabilities_add=("SETUID", "CHOWN"), run_as_non_root=True, run_as_user=1000,
                                 run_as_group=100))
    validate(manifest)
    assert manifest["spec"]["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True,
                                                   "runAsUser": 1000, "runAsGroup": 100}
    assert manifest["spec"]["containers"][0]["securityContext"]["capabilities"] == {
        "drop": ["ALL"], "add": ["CHOWN", "SETUID"]}


def test_server_override_replaces_the_kubeconfig_server(tmp_path, settings):
    import kubesim
    from workers.kube import client as kube_client

    path = kubesim.write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", "t")
    settings.PODS_KUBECONFIG = str(path)
    settings.PODS_KUBE_SERVER = "https://k3s:6443"
    kube_client.reset_client()
    try:
        assert kube_client.api_client().configuration.host == "https://k3s:6443"
    finally:
        kube_client.reset_client()


def test_network_policies_are_valid():
    from workers.kube.manifests import default_deny_policy, network_policy

    proxy = {"podSelector": {"matchLabels": {"app": "proxy"}},
             "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}}}
    s = spec(ports={"default": 5000, "internal": 6000}, local_only=frozenset({"internal"}), proxy_peer=proxy)
    policy = network_policy(s, owner_uid="0b9d2f6e-aaaa-4bbb-8ccc-000000000000")
    validate(policy)
    assert policy["spec"]["ingress"] == [
        {"from": [proxy], "ports": [{"protocol": "TCP", "port": 5000}]},
        {"from": [{"podSelector": {"matchLabels": {LABEL_MANAGED_BY: "pods-service", "pods-service/tenant": "dev"}}}],
         "ports": [{"protocol": "TCP", "port": 6000}]}]
    validate(default_deny_policy("default"))
    closed = network_policy(spec(ports={}), owner_uid="u")
    assert closed["spec"]["ingress"] == [] and closed["spec"]["policyTypes"] == ["Ingress"]
