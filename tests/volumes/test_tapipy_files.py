"""The official client, unchanged, against a live server and a running storage server: files,
snapshots, mounts and commands as a tapipy user does them."""
import io
import zipfile

import pytest
from tapipy.tapis import Tapis

from .test_mounts import run_pod

pytestmark = pytest.mark.live


@pytest.fixture
def tapis_for(transactional_db, live_server, token_for):
    def _client(username):
        return Tapis(base_url=live_server.url, tenant_id="dev", access_token=token_for(username))

    return _client


def test_files_snapshots_and_mounts_through_tapipy(tapis_for, storage, sim, tmp_path):
    t, bob = tapis_for("alice"), tapis_for("bob")
    assert t.pods.create_volume(volume_id="tapivol", size_limit=5).status == "AVAILABLE"
    source = tmp_path / "notes.txt"
    source.write_bytes(b"tapipy notes\n")
    with open(source, "rb") as handle:
        t.pods.upload_to_volume(volume_id="tapivol", path="docs/notes.txt", file=handle)
    listing = t.pods.list_volume_files(volume_id="tapivol")
    assert [f.path for f in listing] == ["docs", "docs/notes.txt"]
    assert t.pods.get_volume_contents(volume_id="tapivol", path="docs/notes.txt") == b"tapipy notes\n"
    zipped = t.pods.get_volume_contents(volume_id="tapivol", path="docs", zip=True)
    assert zipfile.ZipFile(io.BytesIO(zipped)).read("notes.txt") == b"tapipy notes\n"
    assert t.pods.get_volume(volume_id="tapivol").size >= 1

    t.pods.create_pod(pod_id="tapiuser", image="kubesim/happy",
                      volume_mounts={"tapivol": {"type": "tapisvolume", "mount_path": "/data"}})
    run_pod(sim, "tapiuser")
    out = t.pods.exec_pod_commands(pod_id="tapiuser", commands=["cat /data/docs/notes.txt",
                                                                 "echo written > /data/out.txt"])
    assert out.execution_results[0].stdout == "tapipy notes\n"
    assert "out.txt" in [f.path for f in t.pods.list_volume_files(volume_id="tapivol")]
    with open(source, "rb") as handle:
        uploaded = t.pods.upload_to_pod(pod_id="tapiuser", dest_path="/tmp/up.txt", file=handle)
    assert uploaded.uploaded == "/tmp/up.txt"

    snap = t.pods.create_snapshot(snapshot_id="tapisnap", source_volume_id="tapivol", source_volume_path="/")
    assert snap.status == "AVAILABLE"
    t.pods.exec_pod_commands(pod_id="tapiuser", commands=["echo later > /data/out.txt"])
    assert t.pods.get_snapshot_contents(snapshot_id="tapisnap", path="out.txt") == b"written\n"
    assert [f.path for f in t.pods.list_snapshot_files(snapshot_id="tapisnap")][:2] == ["docs", "docs/notes.txt"]
    assert t.pods.set_snapshot_permission(snapshot_id="tapisnap", user="bob", level="READ").permissions == [
        "alice:ADMIN", "bob:READ"]
    assert bob.pods.get_snapshot(snapshot_id="tapisnap").source_volume_id == "tapivol"
    assert t.pods.update_snapshot(snapshot_id="tapisnap", description="kept").description == "kept"
    with pytest.raises(Exception) as exc:  # 409: mounted by a running pod
        t.pods.delete_volume(volume_id="tapivol")
    assert "tapiuser" in str(exc.value.message)
    assert t.pods.get_snapshot_permissions(snapshot_id="tapisnap").permissions == ["alice:ADMIN", "bob:READ"]
    assert t.pods.delete_snapshot_permission(snapshot_id="tapisnap", user="bob").permissions == ["alice:ADMIN"]
    assert t.pods.delete_snapshot(snapshot_id="tapisnap")["message"] == "Snapshot successfully deleted."
    assert t.pods.list_snapshots() == []
