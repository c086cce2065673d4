"""Templates: create, list (with sharing and tenancy), update, delete, list with tags."""
import pytest

from core.permissions import PermissionLevel as L
from templates_catalog.models import Template, TemplatePermission, TemplateTag

from .conftest import assert_400_naming


def add(client, **fields):
    fields.setdefault("template_id", "mytpl")
    return client.post("/v3/pods/templates", fields, format="json")


def ids(response):
    assert response.status_code == 200, response.json()
    return sorted(t["template_id"] for t in response.json()["result"])


# --- add_template --------------------------------------------------------------------------------

def test_add_template_returns_it_and_makes_the_creator_admin(tenant, client_for):
    response = add(client_for("alice"), description="My graph setup", metatags=["graph"], archive_message="")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Template added successfully."
    assert body["result"]["template_id"] == "mytpl"
    assert body["result"]["metatags"] == ["graph"]
    assert set(body["result"]) == {"template_id", "description", "metatags", "archive_message", "creation_ts",
                                   "update_ts"}
    assert not body["result"]["creation_ts"].endswith("Z")
    template = Template.objects.get(template_id="mytpl")
    assert template.tenant == tenant and template.created_by == "alice"
    assert [p.as_wire() for p in template.permissions.all()] == ["alice:ADMIN"]


def test_duplicate_id_in_the_tenant_is_409(tenant, client_for):
    add(client_for("alice"))
    response = add(client_for("bob"))
    assert response.status_code == 409
    assert "already exists" in response.json()["message"]


def test_same_id_in_another_tenant_is_independent(tenant, other_tenant, client_for):
    assert add(client_for("alice")).status_code == 200
    assert add(client_for("alice", in_tenant=other_tenant)).status_code == 200
    assert Template.objects.filter(template_id="mytpl").count() == 2
    # Each tenant sees its own.
    assert client_for("alice").get("/v3/pods/templates/mytpl").json()["result"]["template_id"] == "mytpl"
    assert len(client_for("alice", in_tenant=other_tenant).get("/v3/pods/templates").json()["result"]) == 1


def test_a_builtin_catalog_id_cannot_be_taken(catalog, tenant, client_for):
    response = add(client_for("alice"), template_id="neo4j")
    assert response.status_code == 409
    assert "built-in" in response.json()["message"]


@pytest.mark.parametrize("fields,field,words", [
    ({"template_id": "ab"}, "template_id", "3-64"),
    ({"template_id": "My-tpl"}, "template_id", "lowercase"),
    ({"template_id": "tags"}, "template_id", "reserved"),
    ({"template_id": 5}, "template_id", "string"),
    ({"description": "x" * 1601}, "description", "1600"),
    ({"metatags": "graph"}, "metatags", "list"),
    ({"metatags": ["x" * 129]}, "metatags", "128"),
    ({"colour": "blue"}, "colour", "unknown field"),
])
def test_bad_input_is_400_naming_the_field(tenant, client_for, fields, field, words):
    assert_400_naming(add(client_for("alice"), **fields), field, words)
    assert not Template.objects.exists()


def test_template_id_is_required(tenant, client_for):
    assert_400_naming(client_for("alice").post("/v3/pods/templates", {}, format="json"), "template_id", "required")


# --- list_templates: visibility ----------------------------------------------------------------

@pytest.fixture
def landscape(make_template, make_tenant, other_tenant):
    """alice's private template, bob's template shared with tenant dev, one shared with every
    tenant (**), one of tenant 'other' shared with dev, one of 'other' private."""
    make_template("aliceonly", owner="alice")
    shared_dev = make_template("teamwide", owner="bob")
    TemplatePermission.objects.create(template=shared_dev, username="tenant.dev", level=L.READ)
    everyone = make_template("public", owner="bob")
    TemplatePermission.objects.create(template=everyone, username="**", level=L.READ)
    foreign_shared = make_template("fromother", owner="olga", in_tenant=other_tenant)
    TemplatePermission.objects.create(template=foreign_shared, username="tenant.dev", level=L.READ)
    make_template("otherprivate", owner="olga", in_tenant=other_tenant)


def test_list_shows_own_tenant_shared_and_public_templates(landscape, client_for):
    assert ids(client_for("alice").get("/v3/pods/templates")) == ["aliceonly", "fromother", "public", "teamwide"]


def test_list_of_another_user_of_the_tenant(landscape, client_for):
    assert ids(client_for("carol").get("/v3/pods/templates")) == ["fromother", "public", "teamwide"]


def test_list_in_another_tenant(landscape, client_for, other_tenant):
    assert ids(client_for("olga", in_tenant=other_tenant).get("/v3/pods/templates")) == [
        "fromother", "otherprivate", "public"]


def test_a_username_entry_counts_only_in_the_templates_tenant(landscape, client_for, other_tenant):
    # 'alice' of tenant 'other' is another person than alice of dev.
    assert ids(client_for("alice", in_tenant=other_tenant).get("/v3/pods/templates")) == ["public"]


def test_third_tenant_sees_only_public(landscape, make_tenant, client_for):
    third = make_tenant("third")
    assert ids(client_for("tom", in_tenant=third).get("/v3/pods/templates")) == ["public"]


def test_builtin_catalog_is_listed_for_every_tenant(catalog, tenant, other_tenant, client_for):
    for client in (client_for("alice"), client_for("olga", in_tenant=other_tenant)):
        response = client.get("/v3/pods/templates")
        assert ids(response) == ["jupyterlab", "neo4j", "postgres"]
        assert sorted(response.json()["metadata"]["builtin_template_ids"]) == ["jupyterlab", "neo4j", "postgres"]


def test_shared_template_is_read_only_for_the_sharees(landscape, client_for, other_tenant):
    carol = client_for("carol")
    assert carol.get("/v3/pods/templates/fromother").status_code == 200
    response = carol.put("/v3/pods/templates/fromother", {"description": "mine now"}, format="json")
    assert response.status_code == 403


def test_own_tenants_template_wins_over_a_foreign_shared_one_with_the_same_id(
        make_template, other_tenant, client_for):
    foreign = make_template("dup", owner="olga", in_tenant=other_tenant, description="foreign")
    TemplatePermission.objects.create(template=foreign, username="**", level=L.READ)
    make_template("dup", owner="alice", description="mine")
    alice = client_for("alice")
    assert alice.get("/v3/pods/templates/dup").json()["result"]["description"] == "mine"
    assert alice.get("/v3/pods/templates/tags").json()["result"]["dup"]["description"] == "mine"
    # Someone in dev who cannot see alice's falls through to the shared one.
    assert client_for("carol").get("/v3/pods/templates/dup").json()["result"]["description"] == "foreign"


# --- update / delete ---------------------------------------------------------------------------

def test_update_changes_only_the_sent_fields(make_template, client_for):
    make_template("mytpl", owner="alice", description="old", metatags=["a"])
    response = client_for("alice").put("/v3/pods/templates/mytpl", {"description": "new"}, format="json")
    assert response.status_code == 200
    assert response.json()["message"] == "Template updated successfully."
    assert response.json()["metadata"]["changed_fields"] == ["description"]
    template = Template.objects.get(template_id="mytpl")
    assert (template.description, template.metatags) == ("new", ["a"])
    assert template.update_ts > template.creation_ts


def test_noop_update_is_a_success_that_says_so(make_template, client_for):
    make_template("mytpl", owner="alice", description="same")
    response = client_for("alice").put("/v3/pods/templates/mytpl", {"description": "same"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "success"
    assert "no changes" in response.json()["message"]


@pytest.mark.parametrize("body,field", [({"template_id": "other"}, "template_id"),
                                        ({"description": 5}, "description"),
                                        ({"archive_message": "x" * 1001}, "archive_message")])
def test_update_bad_input_is_400(make_template, client_for, body, field):
    make_template("mytpl", owner="alice")
    assert_400_naming(client_for("alice").put("/v3/pods/templates/mytpl", body, format="json"), field)


def test_delete_removes_versions_and_permissions(make_template, publish, client_for):
    template = make_template("mytpl", owner="alice")
    publish(template)
    response = client_for("alice").delete("/v3/pods/templates/mytpl")
    assert response.status_code == 200
    assert response.json()["result"] == ""
    assert response.json()["message"] == "Template and associated Template Tags successfully deleted."
    assert not TemplateTag.objects.exists() and not TemplatePermission.objects.exists()


def test_delete_of_a_template_others_build_on_is_409(make_template, publish, client_for):
    base = make_template("base", owner="alice")
    publish(base)
    child = make_template("child", owner="bob")
    TemplatePermission.objects.create(template=base, username="bob", level=L.READ)
    publish(child, {"template": "base"}, as_user="bob")
    response = client_for("alice").delete("/v3/pods/templates/base")
    assert response.status_code == 409
    assert "1 template version(s)" in response.json()["message"]
    assert Template.objects.filter(template_id="base").exists()


# --- list_templates_and_tags -------------------------------------------------------------------

def test_list_with_tags_is_a_dict_of_templates_with_their_versions(make_template, publish, client_for):
    template = make_template("mytpl", owner="alice")
    first = publish(template, {"image": "kubesim/happy", "description": "v1"})
    second = publish(template, {"image": "kubesim/happy", "description": "v2"})
    body = client_for("alice").get("/v3/pods/templates/tags").json()
    assert body["message"] == "Templates and tags retrieved successfully."
    entry = body["result"]["mytpl"]
    assert entry["template_id"] == "mytpl"
    assert [t["tag_timestamp"] for t in entry["tags"]] == [second.tag_timestamp, first.tag_timestamp]
    assert entry["tags"][0]["pod_definition"]["description"] == "v2"


def test_list_with_tags_full_false_leaves_out_definitions(make_template, publish, client_for):
    publish(make_template("mytpl", owner="alice"))
    tags = client_for("alice").get("/v3/pods/templates/tags?full=false").json()["result"]["mytpl"]["tags"]
    assert tags and "pod_definition" not in tags[0] and "tag_timestamp" in tags[0]


def test_list_with_tags_rejects_a_bad_flag(tenant, client_for):
    assert_400_naming(client_for("alice").get("/v3/pods/templates/tags?full=maybe"), "full", "true or false")


def test_list_with_tags_is_not_n_plus_one(make_template, publish, client_for, django_assert_max_num_queries):
    for i in range(5):
        publish(make_template(f"tpl{i}", owner="alice"))
    alice = client_for("alice")
    with django_assert_max_num_queries(6):  # auth (tenant, key), templates, versions
        assert len(alice.get("/v3/pods/templates/tags").json()["result"]) == 5
