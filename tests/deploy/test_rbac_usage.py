"""The Roles in deploy/ grant exactly what the code uses: measured, in both directions.

A kubesim with RBAC enforced holds the ServiceAccounts, Roles and RoleBindings rendered from
deploy/overlays/production, in their namespaces. The test then drives every Kubernetes path of
the service through the real code, each component with its own ServiceAccount token (as
deployed): the API (web) for creating, stopping and deleting pods, and for volume files (exec
into the storage server); the worker for spawning
(including replacing a previous run's leftovers), the sweep, orphan collection, log collection
the removal of a deleted pod's objects, and starting and reaping a tenant's storage server; the watcher for its list, watch and a crash's log tail.
kubesim records which verb on which resource each identity used. The test fails when the code
needed something the Role refused, or when a Role grants something nothing used.

Adding a Kubernetes call to the code: grant it in deploy/base/rbac.yaml, and make sure this
lifecycle reaches it (the usage is measured, never listed here).
"""
import threading
import time
import uuid

import pytest
from django.db import connection

import kubesim
from kubesim.rbac.files import rbac_objects
from pods.choices import PodStatus as S
from pods.models import Pod
from tests.deploy.manifests import config_data, render
from tests.deploy.rbac import role_grants, used_by
from workers.kube import client as kube_client
from workers.kube.manifests import LABEL_MANAGED_BY, MANAGED_BY, file_secret_name

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = "pods-system"
COMPONENTS = ("web", "worker", "beat", "watcher")  # every Deployment of the service that runs our code
FILE_PATH = "/etc/app/settings.toml"


@pytest.fixture(scope="module")
def deployed():
    objects = render("overlays/production")
    return {"objects": objects, "rbac": rbac_objects(objects), "namespace": config_data(objects)["PODS_KUBE_NAMESPACE"]}


@pytest.fixture
def cluster(deployed, tmp_path, settings):
    """kubesim enforcing the rendered RBAC; ``cluster.use(component)`` points the code at it as that
    component's ServiceAccount."""
    sim = kubesim.start_in_thread(config=kubesim.Config(rbac=True, seed=3))
    admin = sim.write_kubeconfig(tmp_path / "admin")
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(admin))
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": deployed["namespace"]}})
    sim.apply_rbac(deployed["rbac"])
    kubeconfigs = {name: kubesim.write_kubeconfig(tmp_path / name, sim.url,
                                                  sim.service_account_token(SYSTEM, f"pods-{name}"),
                                                  namespace=deployed["namespace"])
                   for name in COMPONENTS}
    settings.PODS_KUBE_NAMESPACE = deployed["namespace"]
    settings.PODS_KUBE_BACKOFF_MAX = 0.05
    settings.PODS_ORPHAN_GRACE_SECONDS = 0

    def use(component):
        settings.PODS_KUBECONFIG = str(kubeconfigs[component])
        kube_client.reset_client()

    sim.use, sim.core = use, core
    use("web")
    yield sim
    kube_client.reset_client()
    api.close()
    sim.stop()


def status(pod):
    return Pod.objects.get(pk=pod.pk).status


def refusals(cluster) -> str:
    """What RBAC refused so far: the likely reason when a step of the lifecycle did not happen."""
    refused = [u for u in cluster.usage() if u["forbidden"]]
    return f"; RBAC refused: {refused}" if refused else ""


def watch_until(cluster, condition, advance):
    """Run the real watch loop as the watcher while the clock moves, until ``condition()``."""
    from workers.watch import watch_forever

    cluster.use("watcher")
    stop = threading.Event()

    def run():
        try:
            watch_forever(stop, timeout_seconds=2, on_start=informers.append)
        finally:
            connection.close()

    informers = []
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        time.sleep(0.3)  # its first list
        while not condition():
            assert time.monotonic() < deadline, f"the watcher did not apply the change{refusals(cluster)}"
            cluster.advance(advance)
            time.sleep(0.2)
        # Every kind listed, and its watch opened (what the Role is measured against).
        while not (informers and informers[-1].synced()):
            assert time.monotonic() < deadline, "the watcher never listed every kind"
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(10)


def plant_stale_namesakes(cluster, pod, namespace):
    """Objects of an earlier run under the names the next spawn will use (labels of another pod)."""
    from workers.spec import pod_spec_for

    foreign = {LABEL_MANAGED_BY: MANAGED_BY, "pods-service/pod-uid": str(uuid.uuid4())}
    meta = {"name": pod.k8_name, "labels": foreign}
    cluster.core.create_namespaced_service(namespace, {"metadata": meta, "spec": {"ports": [{"port": 5000}]}})
    cluster.core.create_namespaced_pod(namespace, {"metadata": meta, "spec": {
        "containers": [{"name": "old", "image": "kubesim/web:0"}]}})
    from kubernetes import client

    client.NetworkingV1Api(cluster.core.api_client).create_namespaced_network_policy(namespace, {
        "metadata": meta, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    secret = file_secret_name(pod_spec_for(pod), FILE_PATH)  # an earlier attempt of the same instance
    cluster.core.create_namespaced_secret(namespace, {"metadata": {"name": secret, "labels": foreign}})


def test_each_role_grants_exactly_what_its_component_uses(cluster, deployed, client_for, settings):
    from pods.lifecycle import transition
    from workers.logs import collect_logs
    from workers.spawner import reconcile_pod, remove_objects
    from workers.sweep import sweep

    namespace = deployed["namespace"]
    api = client_for("alice")

    # The web: create pods and read them back (never a Kubernetes call).
    cluster.use("web")
    full = {"pod_id": "full", "image": "kubesim/web:1",
            "networking": {"default": {"protocol": "http", "port": 5000}},
            "volume_mounts": {FILE_PATH: {"type": "ephemeral", "config_content": "x = 1\n"}}}
    for body in (full, {**full, "pod_id": "stale"}, {"pod_id": "crashy", "image": "kubesim/crashloop"}):
        assert api.post("/v3/pods", body, format="json").status_code == 200
    pods = {p.pod_id: p for p in Pod.objects.select_related("tenant")}
    assert api.get("/v3/pods/full").status_code == 200
    assert api.get("/v3/pods/full/logs").status_code == 200

    # The worker: spawn; and spawn over a previous run's leftovers (read, delete, create again).
    cluster.use("worker")
    assert reconcile_pod(pods["full"].pk) == "created", refusals(cluster)
    stale = pods["stale"]
    assert transition(stale, to=S.SPAWNER_SETUP, expected=[S.REQUESTED], actor="test",
                      fields={"instance_id": uuid.uuid4()})
    plant_stale_namesakes(cluster, Pod.objects.select_related("tenant").get(pk=stale.pk), namespace)
    assert reconcile_pod(stale.pk) == "created", refusals(cluster)
    assert reconcile_pod(pods["crashy"].pk) == "created", refusals(cluster)
    cluster.advance(2.5)
    sweep()
    assert status(pods["full"]) == S.AVAILABLE and status(stale) == S.AVAILABLE, refusals(cluster)

    # The watcher: list, watch, and the crash's last log lines.
    watch_until(cluster, lambda: status(pods["crashy"]) == S.ERROR, advance=1)
    assert "Last log lines" in Pod.objects.get(pk=pods["crashy"].pk).status_container["message"]

    # The worker again: logs, a stop, a deleted pod's objects, orphans; the sweep sees it all.
    cluster.use("worker")
    collect_logs()
    cluster.use("web")
    assert api.get("/v3/pods/full/stop").status_code == 200
    assert api.delete("/v3/pods/stale").status_code == 200
    cluster.use("worker")
    reconcile_pod(pods["full"].pk)
    assert remove_objects(stale.k8_name, str(stale.uid)) == 2, refusals(cluster)  # Pod, Service (the policy: GC)
    orphan = {"metadata": {"name": "orphan", "labels": {LABEL_MANAGED_BY: MANAGED_BY}},
              "spec": {"containers": [{"name": "c", "image": "kubesim/web:1"}]}}
    cluster.core.create_namespaced_pod(namespace, orphan)
    for _ in range(3):
        cluster.advance(5)
        sweep()
    assert status(pods["full"]) == S.STOPPED, refusals(cluster)
    assert [p.metadata.name for p in cluster.core.list_namespaced_pod(namespace).items] == [pods["crashy"].k8_name]

    # Storage: the web asks for a volume (no server yet), the worker starts the tenant's storage
    # server (claim, Service, Pod, then mkdir through exec); the web's file operations exec into it.
    from workers.storage_server import ensure_storage, reap_idle_storage

    settings.PODS_STORAGE_WAIT_SECONDS = 0
    cluster.use("web")
    assert api.post("/v3/pods/volumes", {"volume_id": "data"}, format="json").status_code == 200
    cluster.use("worker")
    tenant_pk = pods["full"].tenant_id
    for _ in range(10):
        if ensure_storage(tenant_pk) == "ready":
            break
        cluster.advance(2)
    assert ensure_storage(tenant_pk) == "ready", refusals(cluster)
    cluster.use("web")
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert api.post("/v3/pods/volumes/data/upload/f.txt", {"file": SimpleUploadedFile("f", b"x")},
                    format="multipart").status_code == 200, refusals(cluster)
    assert api.get("/v3/pods/volumes/data/list").status_code == 200, refusals(cluster)
    cluster.use("worker")
    settings.PODS_STORAGE_IDLE_SECONDS = 1
    from pods.models import StorageServer

    StorageServer.objects.update(last_used_at="2000-01-01T00:00:00Z")
    assert reap_idle_storage() == ["dev"], refusals(cluster)
    # A pod with a pvc mount: its private claim is created at spawn, deleted with the pod.
    from workers.storage_server import remove_pod_claims

    cluster.use("web")
    assert api.post("/v3/pods", {"pod_id": "withclaim", "image": "kubesim/web:1", "volume_mounts": {
        "/db": {"type": "pvc", "source_id": "db"}}}, format="json").status_code == 200
    claimed = Pod.objects.select_related("tenant").get(pod_id="withclaim")
    cluster.use("worker")
    assert reconcile_pod(claimed.pk) == "created", refusals(cluster)
    assert remove_pod_claims([f"{claimed.k8_name}-pvc-db"], str(claimed.uid)) == 1, refusals(cluster)

    usage = cluster.usage()
    refused = [u for u in usage if u["forbidden"]]
    assert not refused, f"the code needed grants the Roles lack: {refused}"
    for component in COMPONENTS:
        user = f"system:serviceaccount:{SYSTEM}:pods-{component}"
        mine = [u for u in usage if u["user"] == user]
        assert {u["namespace"] for u in mine} <= {namespace}, f"{component} left the pods' namespace"
        used, granted = used_by(mine), role_grants(deployed["rbac"], namespace, f"pods-{component}", SYSTEM)
        if ("get", "", "pods/exec") in used:
            # A WebSocket exec is a GET (kubesim authorizes it as get); API servers since 1.30
            # (KEP-4006) also authorize it as create, so the Role grants both.
            used.add(("create", "", "pods/exec"))
        assert used <= granted, f"{component} used what its Role does not grant: {sorted(used - granted)}"
        assert granted <= used, f"{component}'s Role grants what it never used: {sorted(granted - used)}"
    # beat has no Role and made no request at all; the web only exec'd (checked above).
    assert not [u for u in usage if u["user"].endswith("pods-beat")]
