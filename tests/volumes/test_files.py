"""Files of volumes and snapshots through the API, against a storage server pod in kubesim
(real ``kubernetes`` client, exec over WebSocket, RBAC enforced)."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pods.models import Snapshot, StorageServer, Volume
from tests.messages import message_text

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, volume, path, data: bytes, name="f"):
    return client.post(f"/v3/pods/volumes/{volume}/upload/{path}",
                       {"file": SimpleUploadedFile(name, data)}, format="multipart")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def make_volume(client, volume_id="data", **fields):
    response = client.post("/v3/pods/volumes", {"volume_id": volume_id, **fields}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["result"]


def test_upload_list_download_and_zip(alice, storage, server_sh):
    assert make_volume(alice)["status"] == "AVAILABLE"
    uid = Volume.objects.get().uid
    assert upload(alice, "data", "hello.txt", b"hello\n").json()["message"] == "Volume file upload successful."
    assert upload(alice, "data", "folder/sub/a.bin", bytes(range(256)) * 4).status_code == 200
    # Stored under the volume's uid, never its user-chosen id.
    assert server_sh(f"cat /exports/volumes/{uid}/hello.txt").stdout == b"hello\n"
    listing = alice.get("/v3/pods/volumes/data/list").json()["result"]
    assert [(f["path"], f["type"], f["size"]) for f in listing] == [
        ("folder", "dir", 4096), ("folder/sub", "dir", 4096), ("folder/sub/a.bin", "file", 1024),
        ("hello.txt", "file", 6)]
    assert listing[-1]["nativePermissions"] == "-rw-r--r--" and listing[-1]["lastModified"].endswith("Z")
    sub = alice.get("/v3/pods/volumes/data/list", {"path": "folder/sub"}).json()["result"]
    assert [f["path"] for f in sub] == ["folder/sub/a.bin"]

    response = alice.get("/v3/pods/volumes/data/contents/hello.txt")
    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    assert body(response) == b"hello\n"
    zipped = alice.get("/v3/pods/volumes/data/contents/folder", {"zip": "true"})
    assert zipped["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body(zipped)))
    assert archive.read("sub/a.bin") == bytes(range(256)) * 4
    usage = alice.get("/v3/pods/volumes/data").json()["metadata"]
    assert usage["usage_bytes"] == 4096 * 3 + 6 + 1024 and usage["over_limit"] is False


def test_path_escapes_are_refused(alice, storage, server_sh):
    make_volume(alice, "mine")
    make_volume(alice, "other")
    other = Volume.objects.get(volume_id="other").uid
    upload(alice, "other", "secret.txt", b"other's\n")
    mine = Volume.objects.get(volume_id="mine").uid
    server_sh(f"ln -s /exports/volumes/{other} /exports/volumes/{mine}/link && "
              f"ln -s ../../volumes/{other}/secret.txt /exports/volumes/{mine}/rel")
    for path in ("link/secret.txt", "rel", "link"):
        response = alice.get(f"/v3/pods/volumes/mine/contents/{path}")
        assert response.status_code == 400, path
        assert "outside the volume" in message_text(response.json())
    assert upload(alice, "mine", "link/new.txt", b"x").status_code == 400
    assert server_sh(f"ls /exports/volumes/{other}").stdout == b"secret.txt\n"
    for path in ("../x", "a/../../x", "a%00b"):
        response = alice.get(f"/v3/pods/volumes/mine/contents/{path}")
        assert response.status_code in (400, 404), path
        assert response.status_code == 400 or "No such" in message_text(response.json())
    assert alice.get("/v3/pods/volumes/mine/contents/").status_code == 400
    assert alice.get("/v3/pods/volumes/mine/list", {"path": "../"}).status_code == 400
    assert alice.get("/v3/pods/volumes/mine/contents/nosuch").status_code == 404


def test_size_limit_and_upload_cap_give_413_and_leave_nothing(alice, storage, server_sh, settings):
    make_volume(alice, "small", size_limit=1)
    uid = Volume.objects.get().uid
    assert upload(alice, "small", "a", b"x" * 600_000).status_code == 200
    response = upload(alice, "small", "b", b"y" * 600_000)
    assert response.status_code == 413 and "size_limit" in message_text(response.json())
    assert server_sh(f"ls -A /exports/volumes/{uid}").stdout == b"a\n"  # no partial or temporary file
    settings.PODS_UPLOAD_MAX_BYTES = 1000
    assert upload(alice, "small", "c", b"z" * 1001).status_code == 413
    assert server_sh(f"ls -A /exports/volumes/{uid}").stdout == b"a\n"


def test_snapshot_is_a_point_in_time_copy_that_outlives_its_source(alice, bob, storage, server_sh):
    make_volume(alice, "src")
    upload(alice, "src", "dir/readme", b"first\n")
    response = alice.post("/v3/pods/snapshots", {"snapshot_id": "snap", "source_volume_id": "src",
                                                 "source_volume_path": "/dir"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["status"] == "AVAILABLE"
    upload(alice, "src", "dir/readme", b"changed\n")
    assert body(alice.get("/v3/pods/snapshots/snap/contents/readme")) == b"first\n"
    assert [f["path"] for f in alice.get("/v3/pods/snapshots/snap/list").json()["result"]] == ["readme"]
    # Read-only: snapshots have no upload.
    assert alice.post("/v3/pods/snapshots/snap/upload/x", {}, format="multipart").status_code in (404, 405)
    # bob sees it once granted READ, and may read its files.
    assert bob.get("/v3/pods/snapshots/snap/contents/readme").status_code == 404
    alice.post("/v3/pods/snapshots/snap/permissions", {"user": "bob", "level": "READ"}, format="json")
    assert body(bob.get("/v3/pods/snapshots/snap/contents/readme")) == b"first\n"
    # Deleting the source leaves the snapshot intact (and the worker removes the volume's directory).
    volume_uid = Volume.objects.get().uid
    assert alice.delete("/v3/pods/volumes/src").status_code == 200
    storage()
    assert server_sh(f"ls /exports/volumes/{volume_uid}").status != 0
    assert body(alice.get("/v3/pods/snapshots/snap/contents/readme")) == b"first\n"
    assert Snapshot.objects.get().source is None


def test_snapshot_of_missing_path_is_400_and_leaves_no_row(alice, storage):
    make_volume(alice, "src")
    response = alice.post("/v3/pods/snapshots", {"snapshot_id": "snap", "source_volume_id": "src",
                                                 "source_volume_path": "/nosuch"}, format="json")
    assert response.status_code == 400 and "source_volume_path" in message_text(response.json())
    assert not Snapshot.objects.exists()


def test_reaped_server_starts_again_on_use(alice, storage, sim, settings):
    from workers.storage_server import reap_idle_storage

    make_volume(alice, "keep")
    upload(alice, "keep", "f", b"kept\n")
    settings.PODS_STORAGE_IDLE_SECONDS = 1
    StorageServer.objects.update(last_used_at="2000-01-01T00:00:00Z")
    assert reap_idle_storage() == ["dev"]
    assert StorageServer.objects.get().status == StorageServer.Status.STOPPED
    assert alice.get("/v3/pods/volumes/keep/list").status_code == 503  # starting: retry
    sim.advance(10)
    storage()
    assert body(alice.get("/v3/pods/volumes/keep/contents/f")) == b"kept\n"  # the claim kept the data
