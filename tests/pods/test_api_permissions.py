"""Granting and revoking pod permissions; at least one ADMIN always remains."""
import pytest

from pods.models import Pod, PodEvent, PodEventKind


@pytest.fixture
def pod(make_pod):
    return make_pod("mypod", owner="alice")


def perms(client):
    return client.get("/v3/pods/mypod/permissions").json()["result"]["permissions"]


def grant(client, user, level):
    return client.post("/v3/pods/mypod/permissions", {"user": user, "level": level}, format="json")


def test_grant_then_revoke(pod, alice, bob):
    assert bob.get("/v3/pods/mypod").status_code == 404
    response = grant(alice, "bob", "READ")
    assert response.status_code == 200
    assert response.json()["message"] == "Pod permissions updated successfully."
    assert response.json()["result"]["permissions"] == ["alice:ADMIN", "bob:READ"]
    assert bob.get("/v3/pods/mypod").status_code == 200
    assert [p["pod_id"] for p in bob.get("/v3/pods").json()["result"]] == ["mypod"]

    response = alice.delete("/v3/pods/mypod/permissions/bob")
    assert response.status_code == 200
    assert response.json()["message"] == "Pod permission deleted successfully."
    assert response.json()["result"]["permissions"] == ["alice:ADMIN"]
    assert bob.get("/v3/pods/mypod").status_code == 404


def test_grant_upserts_and_is_case_insensitive_about_the_level(pod, alice):
    grant(alice, "bob", "read")
    assert grant(alice, "bob", "User").json()["result"]["permissions"] == ["alice:ADMIN", "bob:USER"]


def test_changes_are_logged_with_the_actor(pod, alice):
    grant(alice, "bob", "USER")
    alice.delete("/v3/pods/mypod/permissions/bob")
    messages = list(PodEvent.objects.filter(kind=PodEventKind.PERMISSION).values_list("message", flat=True))
    assert messages == ["alice set bob's permission to USER", "alice removed bob's permission"]


def test_the_last_admin_cannot_be_removed(pod, alice):
    response = alice.delete("/v3/pods/mypod/permissions/alice")
    assert response.status_code == 400
    assert "no ADMIN-capable user" in response.json()["message"]
    assert perms(alice) == ["alice:ADMIN"]


def test_the_last_admin_cannot_be_demoted(pod, alice):
    response = grant(alice, "alice", "USER")
    assert response.status_code == 400
    assert perms(alice) == ["alice:ADMIN"]  # rolled back


def test_an_admin_can_leave_once_another_admin_exists(pod, alice, bob):
    grant(alice, "bob", "ADMIN")
    assert alice.delete("/v3/pods/mypod/permissions/alice").status_code == 200
    assert alice.get("/v3/pods/mypod").status_code == 404
    assert perms(bob) == ["bob:ADMIN"]


def test_revoking_an_unknown_user_is_400(pod, alice):
    response = alice.delete("/v3/pods/mypod/permissions/nobody")
    assert response.status_code == 400 and "nobody" in response.json()["message"]


@pytest.mark.parametrize("body,field", [
    ({"user": "bob", "level": "OWNER"}, "level"),
    ({"user": "bob"}, "level"),
    ({"level": "READ"}, "user"),
    ({"user": "bad user!", "level": "READ"}, "user"),
    ({"user": "bob", "level": "READ", "extra": 1}, "extra"),
    ({"user": ["bob"], "level": "READ"}, "user"),
])
def test_bad_permission_bodies_name_the_field(pod, alice, body, field):
    response = alice.post("/v3/pods/mypod/permissions", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["metadata"]["errors"]


def test_approvedadmin_is_granted_only_in_admin_mode(pod, alice, client_for):
    response = grant(alice, "bob", "APPROVEDADMIN")
    assert response.status_code == 403
    boss = client_for("boss", admin_mode=True)
    assert grant(boss, "bob", "APPROVEDADMIN").status_code == 200
    # alice (ADMIN) can neither change nor remove a level above her own
    assert grant(alice, "bob", "READ").status_code == 403
    assert alice.delete("/v3/pods/mypod/permissions/bob").status_code == 403
    # APPROVEDADMIN counts as ADMIN-capable: alice may now leave
    assert alice.delete("/v3/pods/mypod/permissions/alice").status_code == 200


def test_star_entry_is_read_at_most_and_does_not_count_as_an_admin(pod, alice):
    assert grant(alice, "*", "USER").status_code == 400
    assert grant(alice, "*", "READ").status_code == 200
    assert alice.delete("/v3/pods/mypod/permissions/alice").status_code == 400


def test_user_level_may_read_permissions_but_not_change_them(pod, alice, bob):
    grant(alice, "bob", "USER")
    assert perms(bob) == ["alice:ADMIN", "bob:USER"]
    assert grant(bob, "carol", "READ").status_code == 403
    assert bob.delete("/v3/pods/mypod/permissions/alice").status_code == 403


def test_permissions_of_a_deleted_pod_go_with_it(pod, alice):
    grant(alice, "bob", "READ")
    alice.delete("/v3/pods/mypod")
    assert not Pod.objects.exists()
    from pods.models import PodPermission

    assert not PodPermission.objects.exists()
