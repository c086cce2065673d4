"""kubectl, with its default settings (validation on), against kubesim."""

from __future__ import annotations

import json
import threading


POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: main
    image: nginx:1.27
    ports:
    - containerPort: 80
"""


def test_kubectl_workflow(kubectl, sim, tmp_path, core):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD_YAML)
    assert kubectl("create", "-f", str(manifest)).stdout.strip() == "pod/web created"
    # kubectl asked for server-side field validation, as against a real 1.32 apiserver.
    create = next(e for e in sim.journal() if e["method"] == "POST")
    assert create["query"]["fieldValidation"] == "Strict"
    sim.advance(5)

    listed = json.loads(kubectl("get", "pods", "-o", "json").stdout)
    assert [p["metadata"]["name"] for p in listed["items"]] == ["web"]
    assert listed["items"][0]["status"]["phase"] == "Running"

    table = kubectl("get", "pods", "-l", "app=web").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:4] == ["web", "1/1", "Running", "0"]
    assert "No resources found" in kubectl("get", "pods", "-l", "app=other").stderr

    assert kubectl("logs", "web").stdout.startswith(
        "kubesim: starting container main from image nginx:1.27")

    described = kubectl("describe", "pod", "web").stdout
    assert "Status:           Running" in described
    assert "Successfully assigned default/web to kubesim-node" in described

    events = kubectl("get", "events").stdout
    assert "Started container main" in events and "pod/web" in events

    # `kubectl delete` waits for the pod to disappear: keep the virtual clock moving.
    done = threading.Event()

    def tick():
        while not done.wait(0.05):
            sim.advance(1)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        assert kubectl("delete", "pod", "web").stdout.strip() == 'pod "web" deleted'
    finally:
        done.set()
        ticker.join(5)
    assert core.list_namespaced_pod("default").items == []


def test_kubectl_errors_and_crashloop_display(kubectl, sim, core):
    missing = kubectl("get", "pod", "ghost", check=False)
    assert missing.returncode == 1
    assert 'pods "ghost" not found' in missing.stderr
    core.create_namespaced_pod("default", {
        "metadata": {"name": "crash"},
        "spec": {"containers": [{"name": "main", "image": "kubesim/crashloop"}]}})
    sim.advance(12)
    row = kubectl("get", "pod", "crash").stdout.splitlines()[1].split()
    assert row[:3] == ["crash", "0/1", "CrashLoopBackOff"]
    assert row[3] == "1"
    core.create_namespaced_pod("default", {
        "metadata": {"name": "init"},
        "spec": {"initContainers": [{"name": "setup", "image": "kubesim/slow-start"}],
                 "containers": [{"name": "main", "image": "nginx:1.27"}]}})
    sim.advance(1)
    assert kubectl("get", "pod", "init").stdout.splitlines()[1].split()[:3] == [
        "init", "0/1", "Init:0/1"]


def test_kubectl_reports_unknown_fields(kubectl, tmp_path):
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(POD_YAML.replace("image: nginx", "imagee: nginx"))
    result = kubectl("create", "-f", str(manifest), check=False)
    assert result.returncode == 1
    assert 'strict decoding error: unknown field "spec.containers[0].imagee"' in result.stderr


def test_kubectl_typed_creates_send_protobuf(kubectl, sim, core):
    # client-go typed clients send application/vnd.kubernetes.protobuf bodies.
    kubectl("create", "namespace", "team")
    kubectl("create", "secret", "generic", "creds", "--from-literal=token=abc", "-n", "team")
    kubectl("create", "configmap", "settings", "--from-literal=mode=fast", "-n", "team")
    kubectl("create", "service", "clusterip", "web", "--tcp=80:8080", "-n", "team")
    assert any(e["content_type"] == "application/vnd.kubernetes.protobuf"
               for e in sim.journal())
    assert core.read_namespace("team").status.phase == "Active"
    secret = core.read_namespaced_secret("creds", "team")
    assert secret.type == "Opaque" and secret.data == {"token": "YWJj"}
    assert core.read_namespaced_config_map("settings", "team").data == {"mode": "fast"}
    service = core.read_namespaced_service("web", "team")
    port = service.spec.ports[0]
    assert (port.name, port.port, port.target_port, port.protocol) == ("80-8080", 80, 8080, "TCP")
    assert service.spec.selector == {"app": "web"} and service.spec.cluster_ip
