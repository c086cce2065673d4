"""The image allow-list API: reads for everyone, writes for tenant admins (in admin mode) on their tenant's entries."""
import pytest

from templates_catalog.models import Image

from .conftest import assert_400_naming
from tests.messages import message_text


@pytest.fixture
def boss(tenant, client_for):
    return client_for("boss", admin_mode=True)  # image writes need admin mode


def add(client, **fields):
    return client.post("/v3/pods/images", fields, format="json")


# --- add_image ---------------------------------------------------------------------------------

def test_tenant_admin_adds_an_image_for_the_tenant(boss, tenant):
    response = add(boss, image="jupyter/datascience-notebook:2024-01-01", description="Data science")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "Image added successfully."
    assert body["result"] == {**body["result"], "image": "jupyter/datascience-notebook", "tenants": ["dev"],
                              "description": "Data science", "added_by": "boss", "managed_by": "dev"}
    assert "tag" in body["metadata"]["notice"]
    entry = Image.objects.get()
    assert entry.tenant == tenant and entry.image == "jupyter/datascience-notebook"


def test_docker_hub_prefixes_are_normalised(boss):
    assert add(boss, image="docker.io/library/redis:7").json()["result"]["image"] == "redis"


def test_non_admins_cannot_write_the_allow_list(tenant, client_for, site_image):
    alice = client_for("alice")
    site_image("lab/tool")
    assert add(alice, image="lab/tool2").status_code == 403
    assert alice.post("/v3/pods/images/bulk", [{"image": "x"}], format="json").status_code == 403
    assert alice.put("/v3/pods/images/lab/tool", {"description": "x"}, format="json").status_code == 403
    response = alice.delete("/v3/pods/images/lab/tool")
    assert response.status_code == 403
    assert "tenant admins" in message_text(response.json())
    assert list(Image.objects.values_list("image", flat=True)) == ["lab/tool"]


def test_duplicate_in_the_tenant_is_409_even_with_another_tag(boss):
    add(boss, image="lab/tool:1")
    response = add(boss, image="lab/tool:2")
    assert response.status_code == 409
    assert "already" in message_text(response.json())


def test_another_tenants_entry_does_not_block_or_leak(boss, client_for, make_tenant):
    acme = make_tenant("acme", admins=["ann"])
    assert add(client_for("ann", in_tenant=acme, admin_mode=True), image="lab/tool").status_code == 200
    assert add(boss, image="lab/tool").status_code == 200
    assert client_for("alice").get("/v3/pods/images").json()["result"][0]["managed_by"] == "dev"
    assert Image.objects.filter(image="lab/tool").count() == 2


@pytest.mark.parametrize("fields,field,words", [
    ({"image": "Bad Image"}, "image", "not a valid image"),
    ({"image": ""}, "image", "blank"),
    ({"image": "x", "tenants": "dev"}, "tenants", "list"),
    ({"image": "x", "tenants": ["dev", "Not Valid"]}, "tenants", "invalid entries"),
    ({"image": "x", "tenants": ["***"]}, "tenants", "invalid entries"),
    ({"image": "x", "tenants": ["-nosuch"]}, "tenants", "no such tenant"),
    ({"image": "x", "description": "d" * 256}, "description", "255"),
    ({"image": "x", "colour": "blue"}, "colour", "unknown field"),
    ({}, "image", "required"),
])
def test_bad_image_input_is_400(boss, fields, field, words):
    assert_400_naming(add(boss, **fields), field, words)
    assert not Image.objects.exists()


def test_a_tenant_admin_names_their_own_tenant(boss):
    assert add(boss, image="lab/tool", tenants=["dev"]).json()["result"]["tenants"] == ["dev"]
    assert add(boss, image="lab/other", tenants=["-dev"]).json()["result"]["tenants"] == ["-dev"]


@pytest.mark.parametrize("tenants", [["other"], ["dev", "other"], ["-other"], ["*", "other"], ["**", "-other"]])
def test_a_tenant_admin_cannot_write_entries_for_other_tenants_or_the_site(boss, other_tenant, tenants):
    """Security finding 5: an admin of one tenant set another tenant's image policy, with an entry
    the other tenant's admins could then not delete."""
    for response in (add(boss, image="lab/tool", tenants=tenants),
                     boss.post("/v3/pods/images/bulk", [{"image": "lab/ok"}, {"image": "lab/tool", "tenants": tenants}],
                               format="json")):
        assert response.status_code == 403, response.content
        assert "own tenant only" in message_text(response.json())
    assert not Image.objects.exists(), "nothing half-written"
    add(boss, image="lab/tool")
    response = boss.put("/v3/pods/images/lab/tool", {"tenants": tenants}, format="json")
    assert response.status_code == 403
    assert Image.objects.get().tenants == ["dev"]


@pytest.mark.parametrize("tenants", [["*"], ["**"], ["**", "-dev"]])
def test_everyone_in_a_tenants_entry_means_that_tenant_alone(boss, tenant, other_tenant, tenants):
    """Upstream's clients send ``tenants: ["*"]``: accepted, and scoped to the writer's tenant, so
    security finding 5 stays fixed (no tenant sets another's policy)."""
    from templates_catalog.models import image_allowed

    response = add(boss, image="lab/tool", tenants=tenants)
    assert response.status_code == 200, response.content
    assert "'dev' alone" in response.json()["metadata"]["scope"]
    assert image_allowed(tenant, "lab/tool") is ("-dev" not in tenants)
    assert image_allowed(other_tenant, "lab/tool") is False


def test_another_tenants_entry_never_sets_our_policy(tenant, client_for, other_tenant):
    """Even an entry written before the rule (naming us) neither admits, denies nor shows for us."""
    olga_boss = client_for("olga", in_tenant=other_tenant)
    Image.objects.create(tenant=other_tenant, image="lab/tool", tenants=["other", "dev"], added_by="olga")
    Image.objects.create(tenant=other_tenant, image="lab/blocked", tenants=["-dev"], added_by="olga")
    alice = client_for("alice")
    assert alice.get("/v3/pods/images/lab/tool").status_code == 404
    created = alice.post("/v3/pods", {"pod_id": "tool", "image": "lab/tool:1"}, format="json")
    assert created.status_code == 400 and "allow-list" in message_text(created.json())
    assert olga_boss.get("/v3/pods/images/lab/tool").status_code == 200


# --- add_images (bulk) -------------------------------------------------------------------------

def test_bulk_add(boss):
    response = boss.post("/v3/pods/images/bulk", [{"image": "a/one"}, {"image": "a/two", "tenants": ["-dev"]}],
                         format="json")
    assert response.status_code == 200
    assert response.json()["message"] == "Images added successfully."
    assert [i["image"] for i in response.json()["result"]] == ["a/one", "a/two"]


def test_bulk_duplicate_without_skip_is_409_and_adds_nothing(boss):
    add(boss, image="a/one")
    response = boss.post("/v3/pods/images/bulk", [{"image": "a/two"}, {"image": "a/one:5"}], format="json")
    assert response.status_code == 409
    assert sorted(Image.objects.values_list("image", flat=True)) == ["a/one"]


def test_bulk_skip_duplicates(boss):
    add(boss, image="a/one")
    response = boss.post("/v3/pods/images/bulk?skip_duplicates=True",
                         [{"image": "a/one"}, {"image": "a/two"}, {"image": "a/two:9"}], format="json")
    assert response.status_code == 200
    assert [i["image"] for i in response.json()["result"]] == ["a/two"]
    assert response.json()["message"] == "Image added successfully."
    assert "a/one" in response.json()["metadata"]["notice"]
    again = boss.post("/v3/pods/images/bulk?skip_duplicates=true", [{"image": "a/one"}], format="json")
    assert again.json()["message"] == "No images added - all images were duplicates."
    assert again.json()["result"] == []


@pytest.mark.parametrize("body,field", [({"image": "x"}, "request"), ([{"image": "ok"}, {"image": "Bad Name"}], "1.image"),
                                        ([], "non_field_errors")])
def test_bulk_bad_input_is_400(boss, body, field):
    response = boss.post("/v3/pods/images/bulk", body, format="json")
    assert response.status_code == 400
    assert not Image.objects.exists()
    if field != "non_field_errors":
        assert field in response.json()["metadata"]["errors"]


def test_bulk_rejects_a_bad_skip_flag(boss):
    assert_400_naming(boss.post("/v3/pods/images/bulk?skip_duplicates=perhaps", [{"image": "a"}], format="json"),
                      "skip_duplicates", "true or false")


# --- get_images / get_image --------------------------------------------------------------------

@pytest.fixture
def entries(tenant, other_tenant, site_image):
    site_image("neo4j")
    site_image("lab/private", tenants=["other"])
    Image.objects.create(tenant=tenant, image="jupyter/base-notebook", tenants=["dev"], added_by="boss")
    Image.objects.create(tenant=other_tenant, image="other/secret", tenants=["other"], added_by="olga")


def test_get_images_lists_what_concerns_the_tenant(entries, client_for):
    response = client_for("alice").get("/v3/pods/images")
    assert response.json()["message"] == "Images retrieved successfully."
    assert [i["image"] for i in response.json()["result"]] == ["jupyter/base-notebook", "neo4j"]


def test_get_image_with_slashes_in_the_id(entries, client_for):
    response = client_for("alice").get("/v3/pods/images/jupyter/base-notebook")
    assert response.status_code == 200
    assert response.json()["result"]["image"] == "jupyter/base-notebook"
    assert client_for("alice").get("/pods/images/jupyter/base-notebook:latest").status_code == 200


@pytest.mark.parametrize("image_id", ["other/secret", "lab/private", "nosuch/image"])
def test_entries_of_other_tenants_and_missing_ones_are_the_same_404(entries, client_for, image_id):
    response = client_for("alice").get(f"/v3/pods/images/{image_id}")
    assert response.status_code == 404
    assert response.json()["message"] == f"Image with id '{image_id}' not found."


def test_get_image_reports_whether_the_tenant_may_run_it(entries, client_for, tenant):
    Image.objects.create(tenant=tenant, image="neo4j", tenants=["-dev"], added_by="boss")
    response = client_for("alice").get("/v3/pods/images/neo4j")
    assert response.json()["result"]["managed_by"] == "dev"  # the tenant's own entry comes first
    assert response.json()["metadata"]["allowed_for_your_tenant"] is False


# --- update_image / delete_image ---------------------------------------------------------------

def test_update_own_entry(entries, boss):
    response = boss.put("/v3/pods/images/jupyter/base-notebook", {"tenants": ["-dev"], "description": "all"},
                        format="json")
    assert response.status_code == 200
    assert response.json()["result"]["tenants"] == ["-dev"]
    assert response.json()["metadata"]["changed_fields"] == ["tenants", "description"]
    noop = boss.put("/v3/pods/images/jupyter/base-notebook", {"description": "all"}, format="json")
    assert "no changes" in message_text(noop.json())


@pytest.mark.parametrize("body,field", [({"tenants": []}, "tenants"), ({"tenants": ["Bad!"]}, "tenants"),
                                        ({"image": "renamed"}, "image")])
def test_update_bad_input_is_400(entries, boss, body, field):
    assert_400_naming(boss.put("/v3/pods/images/jupyter/base-notebook", body, format="json"), field)


def test_site_entries_are_read_only_for_tenant_admins(entries, boss):
    response = boss.put("/v3/pods/images/neo4j", {"description": "mine"}, format="json")
    assert response.status_code == 403
    assert "site" in message_text(response.json())
    assert boss.delete("/v3/pods/images/neo4j").status_code == 403
    assert Image.objects.filter(image="neo4j", tenant=None).exists()


def test_writes_to_invisible_entries_are_404(entries, boss):
    assert boss.put("/v3/pods/images/other/secret", {"description": "x"}, format="json").status_code == 404
    assert boss.delete("/v3/pods/images/other/secret").status_code == 404


def test_delete_own_entry_returns_its_name(entries, boss):
    response = boss.delete("/v3/pods/images/jupyter/base-notebook")
    assert response.status_code == 200
    assert response.json()["result"] == "jupyter/base-notebook"
    assert response.json()["message"] == "Image successfully deleted."
    assert not Image.objects.filter(image="jupyter/base-notebook").exists()


def test_get_image_and_create_pod_agree_when_only_the_site_setting_admits(boss, client_for, settings,
                                                                          make_tenant, tenant):
    """One policy: an entry that neither admits nor denies the tenant leaves the decision to
    PODS_IMAGE_ALLOWLIST for both the pod and get_image's allowed_for_your_tenant."""
    settings.PODS_IMAGE_ALLOWLIST = ["lab/*"]
    make_tenant("acme")
    # An entry written before tenant entries were limited to their tenant: it names another only.
    Image.objects.create(tenant=tenant, image="lab/tool", tenants=["acme"], added_by="boss")
    got = boss.get("/v3/pods/images/lab/tool").json()
    created = client_for("alice").post("/v3/pods", {"pod_id": "tool", "image": "lab/tool:1"}, format="json")
    assert created.status_code == 200, created.json()
    assert got["metadata"]["allowed_for_your_tenant"] is True

    settings.PODS_IMAGE_ALLOWLIST = []
    got = boss.get("/v3/pods/images/lab/tool").json()
    created = client_for("alice").post("/v3/pods", {"pod_id": "tool2", "image": "lab/tool:1"}, format="json")
    assert created.status_code == 400
    assert got["metadata"]["allowed_for_your_tenant"] is False
