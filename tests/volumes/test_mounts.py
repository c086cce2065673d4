"""Pods mount volumes (read-write, shared) and snapshots (read-only) over NFS from the tenant's
storage server; commands and uploads reach the running pod through exec."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pods.choices import PodStatus
from pods.models import Pod
from tests.messages import message_text

pytestmark = pytest.mark.django_db(transaction=True)


def run_pod(sim, pod_id):
    """The worker spawns it, the kubelet mounts and starts it, the sweep marks it AVAILABLE."""
    from workers.spawner import reconcile_pod
    from workers.sweep import sweep

    pod = Pod.objects.get(pod_id=pod_id)
    assert reconcile_pod(pod.pk) == "created", Pod.objects.get(pk=pod.pk).status_container
    for _ in range(10):
        sim.advance(3)
        sweep()
        if Pod.objects.get(pk=pod.pk).status == PodStatus.AVAILABLE:
            return
    raise AssertionError(Pod.objects.get(pk=pod.pk).status_container)


def execute(client, pod_id, *commands):
    response = client.post(f"/v3/pods/{pod_id}/exec", {"commands": list(commands)}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_pods_share_a_volume_and_mount_a_snapshot_read_only(alice, bob, storage, sim):
    alice.post("/v3/pods/volumes", {"volume_id": "data"}, format="json")
    alice.post("/v3/pods/volumes/data/upload/in/hello.txt", {"file": SimpleUploadedFile("h", b"hello\n")},
               format="multipart")
    created = alice.post("/v3/pods", {"pod_id": "writer", "image": "kubesim/happy",
                                      "volume_mounts": {"/data": {"type": "tapisvolume", "source_id": "data"}}},
                         format="json")
    assert created.status_code == 200, created.json()
    assert created.json()["result"]["volume_mounts"]["/data"]["mounted_by"] == "alice"
    run_pod(sim, "writer")
    result = execute(alice, "writer", "cat /data/in/hello.txt", "echo from-pod > /data/out.txt")
    assert result["message"] == "All Commands Successful"
    first = result["result"]["execution_results"][0]
    assert (first["stdout"], first["exit_code"], first["success"]) == ("hello\n", 0, True)
    files = [f["path"] for f in alice.get("/v3/pods/volumes/data/list").json()["result"]]
    assert "out.txt" in files

    # A volume in use cannot be deleted.
    response = alice.delete("/v3/pods/volumes/data")
    assert response.status_code == 409 and "writer" in message_text(response.json())

    # A snapshot, granted READ to bob, mounted read-only in bob's pod (legacy name-keyed format).
    alice.post("/v3/pods/snapshots", {"snapshot_id": "snap", "source_volume_id": "data",
                                      "source_volume_path": "/"}, format="json")
    denied = bob.post("/v3/pods", {"pod_id": "reader", "image": "kubesim/happy",
                                   "volume_mounts": {"snap": {"type": "tapissnapshot", "mount_path": "/snap"}}},
                      format="json")
    assert denied.status_code == 400 and "snap" in message_text(denied.json())
    alice.post("/v3/pods/snapshots/snap/permissions", {"user": "bob", "level": "READ"}, format="json")
    created = bob.post("/v3/pods", {"pod_id": "reader", "image": "kubesim/happy",
                                    "volume_mounts": {"snap": {"type": "tapissnapshot", "mount_path": "/snap"}}},
                       format="json")
    assert created.status_code == 200, created.json()
    run_pod(sim, "reader")
    execute(alice, "writer", "echo changed > /data/out.txt")
    result = execute(bob, "reader", "cat /snap/out.txt", "echo x > /snap/new")
    outcomes = result["result"]["execution_results"]
    assert outcomes[0]["stdout"] == "from-pod\n"  # the snapshot is unchanged
    assert outcomes[1]["success"] is False and "Read-only file system" in outcomes[1]["stderr"]
    assert result["message"].startswith("1 of 2 commands successful")
    # bob has no permission on the volume itself.
    assert bob.post("/v3/pods", {"pod_id": "sneaky", "image": "kubesim/happy", "volume_mounts": {
        "/d": {"type": "tapisvolume", "source_id": "data"}}}, format="json").status_code == 400


def test_sub_path_symlink_into_another_volume_is_refused_at_start(alice, storage, sim, server_sh):
    from pods.models import Volume

    for vid in ("mine", "theirs"):
        alice.post("/v3/pods/volumes", {"volume_id": vid}, format="json")
    mine, theirs = (Volume.objects.get(volume_id=v).uid for v in ("mine", "theirs"))
    server_sh(f"ln -s /exports/volumes/{theirs} /exports/volumes/{mine}/escape")
    alice.post("/v3/pods", {"pod_id": "escaper", "image": "kubesim/happy", "volume_mounts": {
        "/d": {"type": "tapisvolume", "source_id": "mine", "sub_path": "escape"}}}, format="json")
    from workers.spawner import reconcile_pod

    pod = Pod.objects.get(pod_id="escaper")
    assert reconcile_pod(pod.pk) == "invalid spec"
    pod.refresh_from_db()
    assert pod.status == PodStatus.ERROR and "not a directory inside volume 'mine'" in pod.status_container["message"]
    bad = alice.post("/v3/pods", {"pod_id": "dots", "image": "kubesim/happy", "volume_mounts": {
        "/d": {"type": "tapisvolume", "source_id": "mine", "sub_path": "../theirs"}}}, format="json")
    assert bad.status_code == 400 and "sub_path" in message_text(bad.json())


def test_revoked_permission_fails_the_next_start(alice, storage, sim, principal_for):
    from pods.services.storage import storage_permission_delete, storage_permission_set
    from pods.models import Volume
    from workers.spawner import reconcile_pod
    from core.permissions import PermissionLevel

    alice.post("/v3/pods/volumes", {"volume_id": "shared"}, format="json")
    volume = Volume.objects.get()
    storage_permission_set(obj=volume, principal=principal_for("alice"), username="carol", level=PermissionLevel.USER)
    carol = principal_for("carol")
    from pods.services import pod_create

    pod = pod_create(principal=carol, data={"pod_id": "carols", "image": "kubesim/happy", "volume_mounts": {
        "/d": {"type": "tapisvolume", "source_id": "shared"}}})
    storage_permission_delete(obj=volume, principal=principal_for("alice"), username="carol")
    assert reconcile_pod(pod.pk) == "invalid spec"
    pod.refresh_from_db()
    assert "no longer has it" in pod.status_container["message"]


def test_exec_and_upload_need_an_available_pod_and_user(alice, bob, storage, sim):
    alice.post("/v3/pods", {"pod_id": "box", "image": "kubesim/happy", "status_requested": "OFF"}, format="json")
    response = alice.post("/v3/pods/box/exec", {"commands": ["true"]}, format="json")
    assert response.status_code == 409 and "AVAILABLE" in message_text(response.json())
    assert bob.post("/v3/pods/box/exec", {"commands": ["true"]}, format="json").status_code == 404
    assert alice.post("/v3/pods/box/exec", {"commands": []}, format="json").status_code == 400
    assert alice.post("/v3/pods/box/exec", {"commands": [1]}, format="json").status_code == 400
    alice.get("/v3/pods/box/start")
    run_pod(sim, "box")
    uploaded = alice.post("/v3/pods/box/upload_to_pod", {
        "file": SimpleUploadedFile("x", b"payload\n"),
        "dest_path": SimpleUploadedFile("dest_path", b"/work/in/file.txt")}, format="multipart")  # as tapipy sends it
    assert uploaded.status_code == 200, uploaded.json()
    assert uploaded.json()["result"]["uploaded"] == "/work/in/file.txt"
    out = execute(alice, "box", ["cat", "/work/in/file.txt"], "exit 3")["result"]
    assert out["execution_results"][0]["stdout"] == "payload\n"
    assert out["execution_results"][1]["exit_code"] == 3
    bad = alice.post("/v3/pods/box/upload_to_pod", {"file": SimpleUploadedFile("x", b"p"), "dest_path": "relative"},
                     format="multipart")
    assert bad.status_code == 400 and "dest_path" in message_text(bad.json())
    timeout = alice.post("/v3/pods/box/exec", {"commands": ["sleep 5"], "command_timeout": 1}, format="json").json()
    assert timeout["result"]["execution_results"][0]["success"] == "Timeout after 1s."


def test_pvc_mount_gets_a_pod_private_claim_removed_with_the_pod(alice, sim, core):
    from workers.storage_server import remove_pod_claims

    created = alice.post("/v3/pods", {"pod_id": "dbpod", "image": "kubesim/happy", "volume_mounts": {
        "/var/lib/db": {"type": "pvc", "source_id": "data", "sub_path": "pg"}}}, format="json")
    assert created.status_code == 200, created.json()
    run_pod(sim, "dbpod")
    pod = Pod.objects.select_related("tenant").get(pod_id="dbpod")
    claim = f"{pod.k8_name}-pvc-data"
    spec = core.read_namespaced_pod(pod.k8_name, "default").spec
    mounted = [v for v in spec.volumes if v.persistent_volume_claim]
    assert [v.persistent_volume_claim.claim_name for v in mounted] == [claim]
    assert any(m.sub_path == "pg" and m.mount_path == "/var/lib/db" for m in spec.containers[0].volume_mounts)
    assert remove_pod_claims([claim], "00000000-0000-0000-0000-000000000000") == 0  # another pod's: kept
    assert remove_pod_claims([claim], str(pod.uid)) == 1
    # Kept while the Kubernetes pod still uses it (the claim-protection finalizer), then gone.
    assert core.read_namespaced_persistent_volume_claim(claim, "default").metadata.deletion_timestamp
    core.delete_namespaced_pod(pod.k8_name, "default", grace_period_seconds=0)
    sim.advance(5)
    assert claim not in [c.metadata.name for c in core.list_namespaced_persistent_volume_claim("default").items]
