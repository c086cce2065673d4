"""Who may call what on a template: 401 anonymous, 404 invisible (other user, other tenant), 403 too
low a level, 200 when allowed — for every template endpoint, under /v3/pods and /pods."""
import pytest

from core.permissions import PermissionLevel as L
from templates_catalog.models import Template, TemplatePermission

TAG_BODY = {"pod_definition": {"image": "kubesim/happy"}, "commit_message": "second"}

# name, method, path after /v3/pods/templates/mytpl, body, level required
ENDPOINTS = [
    ("get_template", "get", "", None, L.READ),
    ("update_template", "put", "", {"description": "changed"}, L.USER),
    ("delete_template", "delete", "", None, L.ADMIN),
    ("list_template_tags", "get", "/tags", None, L.READ),
    ("add_template_tag", "post", "/tags", TAG_BODY, L.USER),
    ("get_template_tag", "get", "/tags/latest", None, L.READ),
    ("delete_template_tag", "delete", "/tags/latest", None, L.ADMIN),
    ("get_template_permissions", "get", "/permissions", None, L.USER),
    ("set_template_permission", "post", "/permissions", {"user": "dave", "level": "READ"}, L.ADMIN),
    ("delete_template_permission", "delete", "/permissions/carol", None, L.ADMIN),
]
IDS = [e[0] for e in ENDPOINTS]
LEVEL_USERS = {L.READ: "carol", L.USER: "uma", L.ADMIN: "adam"}


@pytest.fixture
def template(make_template, publish):
    """alice's template with a 'latest' version; carol READ, uma USER, adam ADMIN."""
    template = make_template("mytpl", owner="alice")
    publish(template)
    for username, level in (("carol", L.READ), ("uma", L.USER), ("adam", L.ADMIN)):
        TemplatePermission.objects.create(template=template, username=username, level=level)
    return template


def call(client, method, suffix, body, prefix="/v3"):
    return getattr(client, method)(f"{prefix}/pods/templates/mytpl{suffix}", body, format="json")


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_anonymous_is_401(api, template, name, method, suffix, body, level):
    response = call(api, method, suffix, body)
    assert response.status_code == 401
    assert response.json()["status"] == "error"


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_user_without_permission_gets_404(client_for, template, name, method, suffix, body, level):
    response = call(client_for("mallory"), method, suffix, body)
    assert response.status_code == 404
    assert "mytpl" in response.json()["message"]


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_same_username_in_another_tenant_gets_404(client_for, other_tenant, template, name, method, suffix,
                                                  body, level):
    response = call(client_for("alice", in_tenant=other_tenant), method, suffix, body)
    assert response.status_code == 404


def test_missing_template_is_the_same_404_as_an_invisible_one(client_for, template):
    invisible = call(client_for("mallory"), "get", "", None).json()["message"]
    missing = client_for("mallory").get("/v3/pods/templates/nosuch").json()["message"]
    assert invisible.replace("mytpl", "X") == missing.replace("nosuch", "X")


LOWER = [(e, user_level) for e in ENDPOINTS for user_level in (L.READ, L.USER, L.ADMIN) if user_level < e[4]]


@pytest.mark.parametrize("endpoint,user_level", LOWER, ids=[f"{e[0]}-as-{lv.label}" for e, lv in LOWER])
def test_too_low_a_level_is_403_naming_what_is_needed(client_for, template, endpoint, user_level):
    name, method, suffix, body, level = endpoint
    response = call(client_for(LEVEL_USERS[user_level]), method, suffix, body)
    assert response.status_code == 403, response.json()
    assert level.label in response.json()["message"]


@pytest.mark.parametrize("name,method,suffix,body,level", ENDPOINTS, ids=IDS)
def test_lowest_sufficient_level_is_allowed(client_for, template, name, method, suffix, body, level):
    response = call(client_for(LEVEL_USERS[level]), method, suffix, body, prefix="")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "success"


def test_admin_mode_makes_a_tenant_admin_admin_of_every_tenant_template(client_for, template):
    boss = client_for("boss", admin_mode=True)
    assert boss.get("/v3/pods/templates/mytpl").status_code == 200
    assert boss.delete("/v3/pods/templates/mytpl").status_code == 200
    assert not Template.objects.filter(template_id="mytpl").exists()


def test_tenant_admin_without_admin_mode_sees_only_their_own(client_for, template):
    assert client_for("boss").get("/v3/pods/templates/mytpl").status_code == 404


@pytest.mark.parametrize("path", ["/v3/pods/templates", "/v3/pods/templates/tags", "/v3/pods/images"])
def test_lists_need_a_token(api, tenant, path):
    assert api.get(path).status_code == 401


@pytest.mark.parametrize("path,body", [("/v3/pods/templates", {"template_id": "abc"}),
                                       ("/v3/pods/images", {"image": "x"}),
                                       ("/v3/pods/images/bulk", [{"image": "x"}])])
def test_creates_need_a_token(api, tenant, path, body):
    assert api.post(path, body, format="json").status_code == 401


@pytest.mark.parametrize("method,path", [("get", "/v3/pods/images/kubesim/happy"),
                                         ("put", "/v3/pods/images/kubesim/happy"),
                                         ("delete", "/v3/pods/images/kubesim/happy")])
def test_image_endpoints_need_a_token(api, tenant, site_image, method, path):
    site_image()
    assert getattr(api, method)(path, {}, format="json").status_code == 401
