"""Template permissions: user levels, sharing entries (tenant admins only, READ only), the ADMIN rule."""
import pytest

from templates_catalog.models import TemplatePermission

from .conftest import assert_400_naming


@pytest.fixture
def template(make_template):
    return make_template("mytpl", owner="alice")


def set_perm(client, user, level, template_id="mytpl"):
    return client.post(f"/v3/pods/templates/{template_id}/permissions", {"user": user, "level": level},
                       format="json")


def lines(template):
    return sorted(p.as_wire() for p in TemplatePermission.objects.filter(template=template))


def test_get_permissions_lists_user_level_lines(template, client_for):
    response = client_for("alice").get("/v3/pods/templates/mytpl/permissions")
    assert response.json()["result"] == {"permissions": ["alice:ADMIN"]}
    assert response.json()["message"] == "Template permissions retrieved successfully."


def test_admin_grants_and_changes_a_level(template, client_for):
    alice = client_for("alice")
    assert set_perm(alice, "bob", "READ").json()["result"]["permissions"] == ["alice:ADMIN", "bob:READ"]
    response = set_perm(alice, "bob", "user")
    assert response.json()["message"] == "Template permissions updated successfully."
    assert lines(template) == ["alice:ADMIN", "bob:USER"]
    assert client_for("bob").put("/v3/pods/templates/mytpl", {"description": "x"}, format="json").status_code == 200


def test_tenant_admin_shares_with_the_tenant(template, client_for):
    set_perm(client_for("alice"), "boss", "ADMIN")
    response = set_perm(client_for("boss"), "tenant.dev", "READ")
    assert response.status_code == 200
    assert client_for("carol").get("/v3/pods/templates/mytpl").status_code == 200


def test_tenant_admin_shares_with_another_tenant_and_everyone(template, client_for, other_tenant, make_tenant):
    set_perm(client_for("alice"), "boss", "ADMIN")
    boss = client_for("boss")
    assert set_perm(boss, "tenant.other", "READ").status_code == 200
    assert client_for("olga", in_tenant=other_tenant).get("/v3/pods/templates/mytpl").status_code == 200
    third = make_tenant("third")
    assert client_for("tom", in_tenant=third).get("/v3/pods/templates/mytpl").status_code == 404
    assert set_perm(boss, "**", "READ").status_code == 200
    assert client_for("tom", in_tenant=third).get("/v3/pods/templates/mytpl").status_code == 200


@pytest.mark.parametrize("grantee", ["tenant.dev", "**"])
def test_sharing_is_for_tenant_admins_only(template, client_for, grantee):
    response = set_perm(client_for("alice"), grantee, "READ")
    assert response.status_code == 403
    assert "tenant admins" in response.json()["message"]
    assert lines(template) == ["alice:ADMIN"]


@pytest.mark.parametrize("grantee", ["tenant.dev", "**"])
def test_sharing_entries_are_read_only(template, client_for, grantee):
    set_perm(client_for("alice"), "boss", "ADMIN")
    assert_400_naming(set_perm(client_for("boss"), grantee, "USER"), "level", "only be given READ")


def test_sharing_with_an_unknown_tenant_is_400(template, client_for):
    set_perm(client_for("alice"), "boss", "ADMIN")
    assert_400_naming(set_perm(client_for("boss"), "tenant.nosuch", "READ"), "user", "no tenant")


def test_removing_a_sharing_entry_needs_a_tenant_admin(template, client_for):
    TemplatePermission.objects.create(template=template, username="tenant.dev", level=1)
    assert client_for("alice").delete("/v3/pods/templates/mytpl/permissions/tenant.dev").status_code == 403
    set_perm(client_for("alice"), "boss", "ADMIN")
    assert client_for("boss").delete("/v3/pods/templates/mytpl/permissions/tenant.dev").status_code == 200


@pytest.mark.parametrize("body,field,words", [
    ({"user": "bob", "level": "APPROVEDADMIN"}, "level", "READ, USER, ADMIN"),
    ({"user": "bob", "level": "OWNER"}, "level", "READ, USER, ADMIN"),
    ({"user": "bob bob", "level": "READ"}, "user", "username"),
    ({"user": "*", "level": "READ"}, "user", "username"),
    ({"user": "bob"}, "level", "required"),
    ({"user": "bob", "level": "READ", "extra": 1}, "extra", "unknown field"),
])
def test_bad_permission_input_is_400(template, client_for, body, field, words):
    response = client_for("alice").post("/v3/pods/templates/mytpl/permissions", body, format="json")
    assert_400_naming(response, field, words)


def test_the_last_admin_cannot_step_down_or_be_removed(template, client_for):
    alice = client_for("alice")
    response = set_perm(alice, "alice", "USER")
    assert response.status_code == 400
    assert "no ADMIN" in response.json()["message"]
    assert alice.delete("/v3/pods/templates/mytpl/permissions/alice").status_code == 400
    assert lines(template) == ["alice:ADMIN"]
    set_perm(alice, "bob", "ADMIN")
    assert alice.delete("/v3/pods/templates/mytpl/permissions/alice").status_code == 200
    assert lines(template) == ["bob:ADMIN"]


def test_deleting_a_missing_entry_is_404(template, client_for):
    response = client_for("alice").delete("/v3/pods/templates/mytpl/permissions/nobody")
    assert response.status_code == 404
    assert "nobody" in response.json()["message"]


def test_builtin_templates_permissions_are_not_for_tenant_users(catalog, tenant, client_for):
    boss = client_for("boss", admin_mode=True)
    assert boss.get("/v3/pods/templates/neo4j/permissions").status_code == 403
    response = set_perm(boss, "boss", "ADMIN", template_id="neo4j")
    assert response.status_code == 403
    assert "built-in" in response.json()["message"]
