"""Volumes and snapshots: CRUD, permissions, routing, quotas and the action log (no storage server:
the files side is in tests/workers/test_volume_files.py)."""
import pytest
from tapipy.errors import BadRequestError, ForbiddenError, NotFoundError
from tapipy.tapis import Tapis

from pods.models import Snapshot, StorageEvent, StorageStatus, Volume
from tests.messages import message_text


@pytest.fixture(autouse=True)
def _no_storage_wait(settings):
    settings.PODS_STORAGE_WAIT_SECONDS = 0


@pytest.mark.live
def test_volume_operations_through_tapipy(transactional_db, live_server, token_for):
    def client(user):
        return Tapis(base_url=live_server.url, tenant_id="dev", access_token=token_for(user))

    t, bob = client("alice"), client("bob")
    vol = t.pods.create_volume(volume_id="data", description="results", size_limit=50)
    assert (vol.volume_id, vol.size_limit, vol.size) == ("data", 50, 0)
    assert vol.status in ("REQUESTED", "AVAILABLE")
    assert [v.volume_id for v in t.pods.list_volumes()] == ["data"]
    assert t.pods.get_volume(volume_id="data").description == "results"
    assert t.pods.update_volume(volume_id="data", description="changed").description == "changed"
    with pytest.raises(NotFoundError):
        bob.pods.get_volume(volume_id="data")
    assert bob.pods.list_volumes() == []
    perms = t.pods.set_volume_permission(volume_id="data", user="bob", level="READ")
    assert perms.permissions == ["alice:ADMIN", "bob:READ"]
    assert bob.pods.get_volume(volume_id="data").volume_id == "data"
    with pytest.raises(ForbiddenError):
        bob.pods.update_volume(volume_id="data", description="mine")
    with pytest.raises(ForbiddenError):
        bob.pods.delete_volume(volume_id="data")
    assert t.pods.get_volume_permissions(volume_id="data").permissions == ["alice:ADMIN", "bob:READ"]
    with pytest.raises(BadRequestError):  # the last ADMIN stays
        t.pods.delete_volume_permission(volume_id="data", user="alice")
    assert t.pods.delete_volume_permission(volume_id="data", user="bob").permissions == ["alice:ADMIN"]
    with pytest.raises(BadRequestError) as exc:
        t.pods.create_volume(volume_id="Bad-Id")
    assert "volume_id" in str(exc.value.message)
    deleted = t.pods.delete_volume(volume_id="data")
    assert deleted["message"] == "Volume successfully deleted."
    with pytest.raises(NotFoundError):
        t.pods.get_volume(volume_id="data")


@pytest.mark.live
def test_snapshot_operations_through_tapipy(transactional_db, live_server, token_for):
    """Snapshot rows and permissions; the copy itself needs the storage server (503 without one)."""
    from tapipy.errors import BaseTapyException

    t = Tapis(base_url=live_server.url, tenant_id="dev", access_token=token_for("alice"))
    t.pods.create_volume(volume_id="src")
    assert t.pods.list_snapshots() == []
    with pytest.raises(NotFoundError):
        t.pods.get_snapshot(snapshot_id="nosuch")
    with pytest.raises(NotFoundError):
        t.pods.create_snapshot(snapshot_id="snap", source_volume_id="nosuch", source_volume_path="/")
    with pytest.raises(BaseTapyException) as exc:  # no storage server here: 409 (volume not AVAILABLE)
        t.pods.create_snapshot(snapshot_id="snap", source_volume_id="src", source_volume_path="/")
    assert "AVAILABLE" in str(exc.value.message)
    assert not Snapshot.objects.exists()


def test_volume_and_snapshot_paths_never_fall_to_get_pod(alice, make_pod):
    make_pod("mypod")
    for path in ("/v3/pods/volumes", "/pods/volumes", "/v3/pods/snapshots", "/pods/snapshots"):
        response = alice.get(path)
        assert response.status_code == 200, path
        assert response.json()["message"].endswith("retrieved successfully.")
    assert alice.get("/v3/pods/mypod").json()["result"]["pod_id"] == "mypod"


def test_cross_tenant_and_anonymous(alice, client_for, other_tenant, api):
    assert alice.post("/v3/pods/volumes", {"volume_id": "mine"}, format="json").status_code == 200
    stranger = client_for("alice", in_tenant=other_tenant)  # same name, other tenant
    assert stranger.get("/v3/pods/volumes/mine").status_code == 404
    assert stranger.get("/v3/pods/volumes").json()["result"] == []
    assert api.get("/v3/pods/volumes/mine").status_code == 401
    assert alice.get("/v3/pods/volumes/mine/permissions").status_code == 200


def test_bad_input_names_the_field(alice):
    cases = [({"volume_id": "ok1", "size_limit": "big"}, "size_limit"),
             ({"volume_id": "ok1", "size_limit": 0}, "size_limit"),
             ({"volume_id": "ok1", "colour": "red"}, "colour"),
             ({"volume_id": "x"}, "volume_id"),
             ({"volume_id": "ok1", "description": "é"}, "description")]
    for body, field in cases:
        response = alice.post("/v3/pods/volumes", body, format="json")
        assert response.status_code == 400, body
        assert field in message_text(response.json()), body
    assert not Volume.objects.exists()


def test_duplicate_is_409_and_quota_is_403(alice, bob, settings):
    settings.PODS_STORAGE_TENANT_QUOTA_MB = 100
    assert alice.post("/v3/pods/volumes", {"volume_id": "one", "size_limit": 60}, format="json").status_code == 200
    assert alice.post("/v3/pods/volumes", {"volume_id": "one"}, format="json").status_code == 409
    response = bob.post("/v3/pods/volumes", {"volume_id": "two", "size_limit": 50}, format="json")
    assert response.status_code == 403 and "quota" in message_text(response.json())
    assert alice.put("/v3/pods/volumes/one", {"size_limit": 101}, format="json").status_code == 403
    assert alice.put("/v3/pods/volumes/one", {"size_limit": 100}, format="json").status_code == 200


def test_every_change_is_in_the_action_log(alice):
    alice.post("/v3/pods/volumes", {"volume_id": "logged"}, format="json")
    alice.put("/v3/pods/volumes/logged", {"size_limit": 10}, format="json")
    alice.post("/v3/pods/volumes/logged/permissions", {"user": "bob", "level": "USER"}, format="json")
    alice.delete("/v3/pods/volumes/logged/permissions/bob")
    logs = alice.get("/v3/pods/volumes/logged").json()["metadata"]["action_logs"]
    assert [line.split(": ", 1)[1] for line in logs] == [
        "Volume created by 'alice'", "alice updated size_limit=10",
        "alice set bob's permission to USER", "alice removed bob's permission"]
    alice.delete("/v3/pods/volumes/logged")
    assert StorageEvent.objects.last().message == "Volume deleted by alice"


def test_volume_stays_requested_until_its_directory_exists(alice):
    body = alice.post("/v3/pods/volumes", {"volume_id": "later"}, format="json").json()
    assert body["result"]["status"] == "REQUESTED"
    assert Volume.objects.get().status == StorageStatus.REQUESTED
