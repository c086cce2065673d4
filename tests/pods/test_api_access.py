"""Who may call what: 401 anonymous, 404 invisible (other user, other tenant), 403 too low a level,
200 when allowed — for every pod endpoint. Admin mode sees the whole tenant."""
import pytest

from core.permissions import PermissionLevel as L
from pods.models import Pod, PodPermission

# name, method, path after /v3/pods/mypod, body, level required
ENDPOINTS = [
    ("get_pod", "get", "", None, L.READ),
    ("update_pod", "put", "", {"description": "changed"}, L.USER),
    ("delete_pod", "delete", "", None, L.ADMIN),
    ("get_derived_pod", "get", "/derived", None, L.READ),
    ("get_pod_credentials", "get", "/credentials", None, L.USER),
    ("get_pod_logs", "get", "/logs", None, L.READ),
    ("get_pod_permissions", "get", "/permissions", None, L.USER),
    ("set_pod_permission", "post", "/permissions", {"user": "dave", "level": "READ"}, L.ADMIN),
    ("delete_pod_permission", "delete", "/permissions/carol", None, L.ADMIN),
    ("start_pod", "get", "/start", None, L.ADMIN),
    ("stop_pod", "get", "/stop", None, L.ADMIN),
    ("restart_pod", "get", "/restart", None, L.ADMIN),
]
IDS = [e[0] for e in ENDPOINTS]


@pytest.fixture
def pod(make_pod):
    """alice's stopped pod; carol READ, uma USER, adam ADMIN (so start_pod can succeed)."""
    pod = make_pod("mypod", owner="alice", status_requested="OFF")
    for username, level in (("carol", L.READ), ("uma", L.USER), ("adam", L.ADMIN)):
        PodPermission.objects.create(pod=pod, username=username, level=level)
    return pod


def call(client, method, suffix, body, prefix="/v3"):
    return getattr(client, method)(f"{prefix}/pods/mypod{suffix}", body, format="json")


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_anonymous_is_401(api, pod, name, method, suffix, body, level):
    response = call(api, method, suffix, body)
    assert response.status_code == 401
    assert response.json()["status"] == "error"


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_user_without_permission_gets_404(client_for, pod, name, method, suffix, body, level):
    response = call(client_for("mallory"), method, suffix, body)
    assert response.status_code == 404
    assert "mypod" in response.json()["message"]


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_same_username_in_another_tenant_gets_404(client_for, other_tenant, pod, name, method, suffix, body, level):
    response = call(client_for("alice", in_tenant=other_tenant), method, suffix, body)
    assert response.status_code == 404


@pytest.mark.parametrize("name,method,suffix,body,level", [e for e in ENDPOINTS if e[4] > L.READ],
                         ids=[e[0] for e in ENDPOINTS if e[4] > L.READ])
def test_level_just_below_the_required_one_gets_403(client_for, pod, name, method, suffix, body, level):
    below = {L.USER: "carol", L.ADMIN: "uma"}[level]
    response = call(client_for(below), method, suffix, body)
    assert response.status_code == 403
    assert f"needs {level.label} permission" in response.json()["message"]


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_exactly_the_required_level_is_allowed(client_for, pod, name, method, suffix, body, level):
    allowed = {L.READ: "carol", L.USER: "uma", L.ADMIN: "adam"}[level]
    response = call(client_for(allowed), method, suffix, body)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "success"


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_alias_path_without_v3_behaves_the_same(client_for, pod, name, method, suffix, body, level):
    response = call(client_for("adam"), method, suffix, body, prefix="")
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_tenant_admin_in_admin_mode_may_do_everything(client_for, pod, name, method, suffix, body, level):
    response = call(client_for("boss", admin_mode=True), method, suffix, body)
    assert response.status_code == 200, response.json()


def test_tenant_admin_without_admin_mode_is_an_ordinary_user(client_for, pod):
    assert client_for("boss").get("/v3/pods/mypod").status_code == 404
    assert client_for("boss").get("/v3/pods").json()["result"] == []


def test_admin_mode_lists_every_pod_of_the_tenant_only(client_for, make_pod, other_tenant, pod):
    make_pod("bobspod", owner="bob")
    make_pod("elsewhere", owner="bob", in_tenant=other_tenant)
    response = client_for("boss", admin_mode=True).get("/v3/pods")
    body = response.json()
    assert sorted(p["pod_id"] for p in body["result"]) == ["bobspod", "mypod"]
    assert body["metadata"]["admin_context"]["admin_mode"] is True
    assert body["metadata"]["admin_context"]["user_accessible_ids"] == []


def test_admin_header_from_a_non_admin_is_403(client_for, pod):
    assert client_for("alice", admin_mode=True).get("/v3/pods").status_code == 403


def test_list_shows_only_pods_with_a_permission(client_for, make_pod, other_tenant):
    make_pod("alicepod", owner="alice")
    make_pod("bobpod", owner="bob")
    make_pod("alicethere", owner="alice", in_tenant=other_tenant)
    PodPermission.objects.create(pod=Pod.objects.get(pod_id="bobpod"), username="alice", level=L.READ)
    body = client_for("alice").get("/v3/pods").json()
    assert [p["pod_id"] for p in body["result"]] == ["alicepod", "bobpod"]
    assert body["message"] == "Pods retrieved successfully."
    assert client_for("mallory").get("/v3/pods").json()["result"] == []


def test_tenant_wide_star_entry_makes_a_pod_readable_by_everyone_in_the_tenant(client_for, pod, other_tenant):
    PodPermission.objects.create(pod=pod, username="*", level=L.READ)
    assert client_for("mallory").get("/v3/pods/mypod").status_code == 200
    assert client_for("mallory").get("/v3/pods/mypod/credentials").status_code == 403
    assert client_for("mallory", in_tenant=other_tenant).get("/v3/pods/mypod").status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_list_and_create_need_a_token(api, db, method):
    response = getattr(api, method)("/v3/pods", {"pod_id": "abc", "image": "kubesim/happy"}, format="json")
    assert response.status_code == 401
