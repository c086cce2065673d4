"""Template versions: publishing, addressing, the publish-time checks, pinning bases, deleting."""
import re
from datetime import timedelta

import pytest

from core.permissions import PermissionLevel as L
from templates_catalog.models import Image, TemplatePermission, TemplateTag

from .conftest import assert_400_naming
from tests.messages import message_text

STAMP_RE = re.compile(r"^latest@\d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2}$")


@pytest.fixture
def template(make_template, site_image):
    site_image("kubesim/happy")
    return make_template("mytpl", owner="alice")


def add_tag(client, template_id="mytpl", **body):
    body.setdefault("pod_definition", {"image": "kubesim/happy"})
    body.setdefault("commit_message", "first")
    return client.post(f"/v3/pods/templates/{template_id}/tags", body, format="json")


def test_add_tag_returns_the_version(template, client_for):
    response = add_tag(client_for("alice"), pod_definition={
        "image": "kubesim/happy:1.0", "networking": {"default": {"port": 8000}},
        "environment_variables": {"MODE": "x"}}, description="How to use it")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "Template tag added successfully."
    result = body["result"]
    assert result["template_id"] == "mytpl" and result["tag"] == "latest"
    assert STAMP_RE.match(result["tag_timestamp"])
    assert result["pod_definition"] == {"image": "kubesim/happy:1.0", "networking": {"default": {"port": 8000}},
                                        "environment_variables": {"MODE": "x"}}
    assert result["commit_message"] == "first" and result["added_by"] == "alice"
    assert result["description"] == "How to use it"
    assert body["metadata"]["reference"] == f"mytpl:{result['tag_timestamp']}"


def test_definitions_are_stored_sparse_and_without_urls(template, client_for):
    response = add_tag(client_for("alice"), pod_definition={
        "image": "kubesim/happy", "command": None, "template": "",
        "networking": {"web": {"port": 8000, "url": "evil.example.org"}}})
    assert response.json()["result"]["pod_definition"] == {"image": "kubesim/happy",
                                                            "networking": {"web": {"port": 8000}}}


def test_versions_published_in_the_same_second_get_distinct_ordered_addresses(template, client_for):
    alice = client_for("alice")
    stamps = [add_tag(alice, commit_message=f"v{i}").json()["result"]["tag_timestamp"] for i in range(3)]
    assert len(set(stamps)) == 3
    versions = list(TemplateTag.objects.order_by("creation_ts"))
    assert [v.commit_message for v in versions] == ["v0", "v1", "v2"]
    assert all(b.creation_ts - a.creation_ts >= timedelta(seconds=1) for a, b in zip(versions, versions[1:]))
    listed = alice.get("/v3/pods/templates/mytpl/tags").json()["result"]
    assert [t["commit_message"] for t in listed] == ["v2", "v1", "v0"]


def test_get_tag_by_name_lists_its_versions_newest_first_and_by_timestamp_one(template, client_for):
    alice = client_for("alice")
    first = add_tag(alice, commit_message="one").json()["result"]
    add_tag(alice, tag="v2", commit_message="other tag")
    second = add_tag(alice, commit_message="two").json()["result"]
    by_name = alice.get("/v3/pods/templates/mytpl/tags/latest").json()
    assert by_name["message"] == "Template tags retrieved and filtered successfully."
    assert [t["commit_message"] for t in by_name["result"]] == ["two", "one"]
    pinned = alice.get(f"/v3/pods/templates/mytpl/tags/{first['tag_timestamp']}").json()["result"]
    assert [t["tag_timestamp"] for t in pinned] == [first["tag_timestamp"]]
    assert second["tag_timestamp"] != first["tag_timestamp"]


def test_list_tags_full_false_leaves_out_definitions(template, client_for):
    add_tag(client_for("alice"))
    result = client_for("alice").get("/v3/pods/templates/mytpl/tags?full=false").json()["result"]
    assert "pod_definition" not in result[0] and "template_id" not in result[0]


@pytest.mark.parametrize("tag_id,status,field", [("nosuch", 404, None),
                                                 ("latest@2001-01-01-00:00:00", 404, None),
                                                 ("latest@someday", 400, "tag_id"),
                                                 ("bad tag", 400, "tag_id")])
def test_get_tag_missing_or_malformed(template, client_for, tag_id, status, field):
    add_tag(client_for("alice"))
    response = client_for("alice").get(f"/v3/pods/templates/mytpl/tags/{tag_id}")
    assert response.status_code == status
    if field:
        assert_400_naming(response, field)


@pytest.mark.parametrize("body,field,words", [
    ({"commit_message": None}, "commit_message", "null"),
    ({"commit_message": "x" * 256}, "commit_message", "255"),
    ({"tag": "no spaces"}, "tag", "not a tag"),
    ({"tag": "x" * 81}, "tag", "not a tag"),
    ({"pod_definition": "neo4j"}, "pod_definition", "expected a JSON object"),
    ({"pod_definition": {"image": "kubesim/happy", "bogus": 1}}, "pod_definition.bogus", "unknown field"),
    ({"pod_definition": {"status_requested": "ON"}}, "pod_definition.status_requested", "unknown field"),
    ({"pod_definition": {"image": "Not An Image!"}}, "pod_definition.image", "not a valid image"),
    ({"pod_definition": {"image": "forbidden/image"}}, "pod_definition.image", "allow-list"),
    ({"pod_definition": {"resources": {"cpu_request": 3000, "cpu_limit": 1000}}},
     "pod_definition.resources.cpu_request", "must not exceed"),
    ({"pod_definition": {"resources": {"mem_limit": 10 ** 9}}}, "pod_definition.resources.mem_limit", "bounds"),
    ({"pod_definition": {"networking": {"default": {"protocol": "udp"}}}},
     "pod_definition.networking.default.protocol", "http"),
    ({"pod_definition": {"volume_mounts": {"/data": {"type": "tapisvolume", "source_id": "v"}}}},
     "pod_definition.volume_mounts./data", "template cannot mount a tapisvolume"),
    ({"pod_definition": {"template": "Bad:Ref"}}, "pod_definition.template", "not a template id"),
    ({"pod_definition": {"template": "nosuch"}}, "pod_definition.template", "not found"),
    ({"pod_definition": {"time_to_stop_default": 10}}, "pod_definition.time_to_stop_default", "300"),
    ({"extra": 1}, "extra", "unknown field"),
])
def test_bad_versions_are_400_naming_the_field(template, client_for, body, field, words):
    assert_400_naming(add_tag(client_for("alice"), **body), field, words)
    assert not TemplateTag.objects.exists()


def test_commit_message_and_definition_are_required(template, client_for):
    response = client_for("alice").post("/v3/pods/templates/mytpl/tags", {}, format="json")
    assert_400_naming(response, "commit_message", "required")
    assert_400_naming(response, "pod_definition", "required")


def test_image_must_be_on_the_template_tenants_allow_list(template, client_for, boss_adds_image):
    boss_adds_image("lab/tool", tenants=["dev"])
    assert add_tag(client_for("alice"), pod_definition={"image": "lab/tool:3"}).status_code == 200


def test_image_denied_for_the_tenant_is_refused(template, client_for, site_image, boss_adds_image):
    site_image("lab/tool")
    boss_adds_image("lab/tool", tenants=["-dev"])
    assert_400_naming(add_tag(client_for("alice"), pod_definition={"image": "lab/tool"}),
                      "pod_definition.image", "allow-list")


@pytest.fixture
def boss_adds_image(tenant):
    def _add(name, tenants):
        return Image.objects.create(tenant=tenant, image=name, tenants=tenants, added_by="boss")

    return _add


# --- Building on templates ---------------------------------------------------------------------

def test_a_base_template_is_pinned_to_its_exact_version(make_template, publish, template, client_for):
    base = make_template("base", owner="alice")
    old = publish(base, {"image": "kubesim/happy", "description": "old"})
    current = publish(base, {"image": "kubesim/happy", "description": "current"})
    response = add_tag(client_for("alice"), pod_definition={"template": "base", "description": "child"})
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["pod_definition"]["template"] == f"base:{current.tag_timestamp}"
    assert TemplateTag.objects.get(template=template).base == current
    pinned_old = add_tag(client_for("alice"), pod_definition={"template": f"base:{old.tag_timestamp}"})
    assert TemplateTag.objects.get(pk=_pk(pinned_old)).base == old


def _pk(response):
    stamp = response.json()["result"]["tag_timestamp"]
    return next(t.pk for t in TemplateTag.objects.all() if t.tag_timestamp == stamp)


def test_a_base_the_publisher_cannot_read_is_not_found(make_template, publish, template, client_for):
    publish(make_template("secret", owner="bob"), as_user="bob")
    assert_400_naming(add_tag(client_for("alice"), pod_definition={"template": "secret"}),
                      "pod_definition.template", "not found")


def test_a_builtin_template_can_be_a_base(catalog, template, client_for):
    response = add_tag(client_for("alice"), pod_definition={"template": "neo4j", "resources": {"mem_limit": 4096}})
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["pod_definition"]["template"].startswith("neo4j:latest@")


def test_a_template_cannot_build_on_itself(template, client_for):
    alice = client_for("alice")
    add_tag(alice)
    assert_400_naming(add_tag(alice, pod_definition={"template": "mytpl"}), "pod_definition.template", "loop")


def test_a_loop_through_another_template_is_refused(make_template, publish, template, client_for):
    publish(template)
    other = make_template("other", owner="alice")
    publish(other, {"template": "mytpl"})
    response = add_tag(client_for("alice"), pod_definition={"template": "other"})
    assert_400_naming(response, "pod_definition.template", "loop")
    assert "mytpl:latest → other:latest → mytpl:latest" in message_text(response.json())


def test_a_tag_may_build_on_another_tag_of_its_own_template(template, client_for):
    """Upstream's own tests build ``catchall:recursive`` on ``catchall:fastapi``."""
    alice = client_for("alice")
    add_tag(alice, tag="fastapi", pod_definition={"image": "kubesim/happy", "resources": {"cpu_request": 500}})
    response = add_tag(alice, tag="recursive", pod_definition={"template": "mytpl:fastapi",
                                                                "command": ["echo", "recursive"],
                                                                "resources": {"cpu_request": 400}})
    assert response.status_code == 200, response.json()
    pod = alice.post("/v3/pods", {"pod_id": "recursive", "template": "mytpl:recursive"}, format="json").json()
    assert pod["result"]["image"] == "kubesim/happy" and pod["result"]["command"] == ["echo", "recursive"]
    assert pod["result"]["resources"]["cpu_request"] == 400


def test_chains_deeper_than_the_limit_are_refused(make_template, publish, client_for):
    from templates_catalog.services.lookup import MAX_CHAIN_DEPTH

    previous = publish(make_template("level0", owner="alice"), {"image": "kubesim/happy"})
    for level in range(1, MAX_CHAIN_DEPTH):
        previous = publish(make_template(f"level{level}", owner="alice"), {"template": f"level{level - 1}"})
    make_template("toodeep", owner="alice")
    response = client_for("alice").post("/v3/pods/templates/toodeep/tags", {
        "commit_message": "one too many", "pod_definition": {"template": f"level{MAX_CHAIN_DEPTH - 1}"}},
        format="json")
    assert response.status_code == 400
    assert f"more than {MAX_CHAIN_DEPTH} levels deep" in message_text(response.json())


# --- delete_template_tag -----------------------------------------------------------------------

def test_delete_tag_by_name_and_by_version(template, client_for):
    alice = client_for("alice")
    one = add_tag(alice, commit_message="one").json()["result"]["tag_timestamp"]
    add_tag(alice, commit_message="two")
    add_tag(alice, tag="stable", commit_message="stable")
    response = alice.delete(f"/v3/pods/templates/mytpl/tags/{one}")
    assert response.status_code == 200 and response.json()["metadata"]["deleted"] == [one]
    assert sorted(TemplateTag.objects.values_list("commit_message", flat=True)) == ["stable", "two"]
    response = alice.delete("/v3/pods/templates/mytpl/tags/latest")
    assert response.status_code == 200
    assert list(TemplateTag.objects.values_list("tag", flat=True)) == ["stable"]
    assert alice.delete("/v3/pods/templates/mytpl/tags/latest").status_code == 404


def test_a_version_other_templates_build_on_cannot_be_deleted(make_template, publish, template, client_for):
    base_version = publish(template)
    publish(make_template("child", owner="alice"), {"template": "mytpl"})
    response = client_for("alice").delete(f"/v3/pods/templates/mytpl/tags/{base_version.tag_timestamp}")
    assert response.status_code == 409
    assert TemplateTag.objects.filter(pk=base_version.pk).exists()


def test_versions_of_a_shared_template_are_readable_by_the_sharees(template, client_for, other_tenant):
    add_tag(client_for("alice"))
    TemplatePermission.objects.create(template=template, username="tenant.other", level=L.READ)
    olga = client_for("olga", in_tenant=other_tenant)
    assert olga.get("/v3/pods/templates/mytpl/tags/latest").status_code == 200
    assert add_tag(olga).status_code == 403
