"""Pods from templates: resolving and pinning the version, the merge through the API, the image
rules, deriving, updating, moving to the newest version, and what protects versions in use."""
import pytest

from core.permissions import PermissionLevel as L
from pods.models import Pod, PodPermission
from templates_catalog.models import Image, TemplatePermission, TemplateTag

from .conftest import assert_400_naming
from tests.messages import message_text

NEO4J_PLACEHOLDERS = {"PODS_USER_USERNAME": "<<TAPIS_user_username>>",
                      "PODS_USER_PASSWORD": "<<TAPIS_user_password>>",
                      "PODS_ADMIN_PASSWORD": "<<TAPIS_admin_password>>"}


def create(client, **fields):
    fields.setdefault("pod_id", "docpod")
    return client.post("/v3/pods", fields, format="json")


def created(response):
    assert response.status_code == 200, response.json()
    return response.json()["result"]


@pytest.fixture
def alice(catalog, tenant, client_for):
    return client_for("alice")


# --- Creating ----------------------------------------------------------------------------------

def test_pod_from_a_catalog_template(alice):
    pod = created(create(alice, template="neo4j", description="My example pod!"))
    latest = TemplateTag.objects.get(template__template_id="neo4j")
    assert pod["template"] == f"neo4j:{latest.tag_timestamp}"
    assert pod["image"] == "neo4j:5-community"
    assert pod["description"] == "My example pod!"
    assert {k: v["url"] for k, v in pod["networking"].items()} == {
        "default": "docpod.pods.localhost", "browser": "docpod-browser.pods.localhost"}
    assert pod["networking"]["default"]["protocol"] == "tcp" and pod["networking"]["default"]["port"] == 7687
    assert pod["url"] == "docpod.pods.localhost" and pod["pod_template"] == "neo4j"
    assert pod["networking"]["browser"]["port"] == 7474
    assert NEO4J_PLACEHOLDERS.items() <= pod["environment_variables"].items()
    assert pod["resources"]["mem_limit"] == 3072 and pod["resources"]["cpu_request"] == 500
    stored = Pod.objects.get(pod_id="docpod")
    assert stored.template_tag == latest
    assert stored.modified_fields == ["description", "template"]


@pytest.mark.parametrize("legacy", ["neo4j", "template/neo4j"])
def test_legacy_pod_template_is_an_alias(alice, legacy):
    pod = created(create(alice, pod_template=legacy))
    assert pod["template"].startswith("neo4j:latest@") and pod["image"] == "neo4j:5-community"


def test_template_and_pod_template_together_are_refused(alice):
    assert_400_naming(create(alice, template="neo4j", pod_template="neo4j"), "pod_template", "not both")


def test_a_pinned_reference_keeps_its_version(alice, publish_catalog_version):
    old = TemplateTag.objects.get(template__template_id="postgres")
    publish_catalog_version("postgres", cpu_limit=4000)
    pinned = created(create(alice, pod_id="pinned", template=f"postgres:{old.tag_timestamp}"))
    newest = created(create(alice, pod_id="newest", template="postgres"))
    assert pinned["template"] == f"postgres:{old.tag_timestamp}" and pinned["resources"]["cpu_limit"] == 2000
    assert newest["template"] != pinned["template"] and newest["resources"]["cpu_limit"] == 4000


@pytest.fixture
def publish_catalog_version(catalog):
    from dataclasses import replace

    from templates_catalog.catalog.definitions import CATALOG
    from templates_catalog.catalog.install import catalog_install

    def _publish(template_id, **resources):
        entry = next(e for e in CATALOG if e.template_id == template_id)
        definition = {**entry.pod_definition, "resources": {**entry.pod_definition["resources"], **resources}}
        catalog_install((replace(entry, pod_definition=definition),))
        return TemplateTag.objects.filter(template__template_id=template_id).order_by("-creation_ts").first()

    return _publish


@pytest.mark.parametrize("reference,words", [
    ("nosuch", "not found"),
    ("neo4j:v9", "has no version"),
    ("neo4j:latest@2001-01-01-00:00:00", "has no version"),
    ("Neo4j", "not a template id"),
    ("neo4j@2001-01-01-00:00:00", "needs a tag"),
])
def test_bad_template_references_are_400_naming_template(alice, reference, words):
    assert_400_naming(create(alice, template=reference), "template", words)
    assert not Pod.objects.exists()


def test_a_template_the_user_cannot_read_is_not_found(alice, make_template, publish, client_for):
    publish(make_template("private", owner="bob"), as_user="bob")
    assert_400_naming(create(alice, template="private"), "template", "not found")


def test_the_users_fields_win_over_the_template(alice):
    pod = created(create(alice, template="neo4j", image="neo4j:4.4",
                         environment_variables={"EXTRA": "1", "NEO4J_AUTH": "neo4j/mine"},
                         resources={"mem_limit": 4096}, networking={"web": {"port": 8080}}))
    assert pod["image"] == "neo4j:4.4"
    env = pod["environment_variables"]
    assert env["EXTRA"] == "1" and env["NEO4J_AUTH"] == "neo4j/mine"
    assert env["PODS_USER_PASSWORD"] == "<<TAPIS_user_password>>"
    assert pod["resources"] == {"cpu_request": 500, "cpu_limit": 2000, "mem_request": 1536, "mem_limit": 4096,
                                "gpus": 0, "ephemeral_storage_request": -1, "ephemeral_storage_limit": -1}
    assert sorted(pod["networking"]) == ["browser", "default", "web"]
    assert pod["networking"]["web"]["url"] == "docpod-web.pods.localhost"
    assert Pod.objects.get().modified_fields == [
        "environment_variables", "environment_variables.EXTRA", "environment_variables.NEO4J_AUTH", "image",
        "networking", "networking.web", "resources", "resources.mem_limit", "template"]


def test_merged_resources_are_checked(alice):
    response = create(alice, template="neo4j", resources={"cpu_request": 3000})
    assert_400_naming(response, "resources.cpu_request", "must not exceed cpu_limit (2000)")


def test_a_template_without_image_needs_one_from_the_user(alice, make_template, publish):
    publish(make_template("noimage", owner="alice"), {"description": "only a description"})
    assert_400_naming(create(alice, template="noimage"), "image", "sets no image")
    assert created(create(alice, template="noimage", image="kubesim/happy"))["image"] == "kubesim/happy"


def test_the_users_own_image_must_be_allowed(alice):
    assert_400_naming(create(alice, template="neo4j", image="evil/miner"), "image", "allow-list")


def test_an_image_from_a_shared_template_is_vouched_for_by_its_publisher(
        alice, other_tenant, make_template, publish, client_for):
    Image.objects.create(tenant=other_tenant, image="lab/special", tenants=["other"], added_by="olga")
    template = make_template("special", owner="olga", in_tenant=other_tenant)
    publish(template, {"image": "lab/special:2"}, as_user="olga")
    TemplatePermission.objects.create(template=template, username="tenant.dev", level=L.READ)
    assert_400_naming(create(alice, pod_id="direct", image="lab/special:2"), "image", "allow-list")
    assert created(create(alice, pod_id="viatemplate", template="special"))["image"] == "lab/special:2"


def test_a_tenants_deny_wins_over_a_template_shared_site_wide(alice, tenant, other_tenant, make_template, publish):
    """Security finding 5: a template another tenant shared with ``**`` let our users run an image
    our own deny entry forbids."""
    Image.objects.create(tenant=other_tenant, image="lab/special", tenants=["other"], added_by="olga")
    template = make_template("special", owner="olga", in_tenant=other_tenant)
    publish(template, {"image": "lab/special:2"}, as_user="olga")
    TemplatePermission.objects.create(template=template, username="**", level=L.READ)
    Image.objects.create(tenant=tenant, image="lab/special", tenants=["-dev"], added_by="boss")
    assert_400_naming(create(alice, pod_id="viatemplate", template="special"), "image", "denied for tenant 'dev'")
    assert not Pod.objects.filter(pod_id="viatemplate").exists()
    # Moving an existing pod onto the template is refused the same way.
    created(create(alice, pod_id="graph", template="neo4j"))
    assert_400_naming(alice.put("/v3/pods/graph", {"template": "special"}, format="json"), "image", "denied")
    assert Pod.objects.get(pod_id="graph").image == "neo4j:5-community"


def test_a_user_who_attaches_a_template_gets_only_the_credentials_a_user_may_read(alice, client_for):
    """Security finding 6: the template's values count as written by whoever attached it."""
    created(create(alice, pod_id="plain", image="kubesim/happy"))
    alice.post("/v3/pods/plain/permissions", {"user": "bob", "level": "USER"}, format="json")
    response = client_for("bob").put("/v3/pods/plain", {"template": "neo4j"}, format="json")
    assert response.status_code == 200, response.json()
    withheld = response.json()["metadata"]["placeholders_withheld"]
    assert "environment_variables.PODS_ADMIN_PASSWORD: admin_password" in withheld
    assert not any("user_password" in item for item in withheld)
    # The owner creating a pod from the same template gets everything resolved.
    created(create(alice, pod_id="mine", template="neo4j"))
    derived = alice.get("/v3/pods/mine/derived?resolve_secrets=true").json()
    assert derived["metadata"]["placeholders_withheld"] == []
    # And an ADMIN who sets the template again vouches for it.
    alice.put("/v3/pods/plain", {"template": "neo4j"}, format="json")
    assert alice.get("/v3/pods/plain/derived?resolve_secrets=true").json()["metadata"]["placeholders_withheld"] == []


def test_a_catalog_image_the_tenant_denies_is_refused_at_create(alice, tenant):
    Image.objects.create(tenant=tenant, image="neo4j", tenants=["-dev"], added_by="boss")
    assert_400_naming(create(alice, template="neo4j"), "image", "denied")


def test_a_denied_image_cannot_be_set_by_the_user_even_on_a_template_pod(alice, tenant):
    Image.objects.create(tenant=tenant, image="neo4j", tenants=["-dev"], added_by="boss")
    assert_400_naming(create(alice, template="neo4j", image="neo4j:4.4"), "image", "allow-list")


# --- Deriving ----------------------------------------------------------------------------------

@pytest.fixture
def docpod(alice):
    created(create(alice, template="neo4j", description="My example pod!"))
    pod = Pod.objects.get(pod_id="docpod")
    PodPermission.objects.create(pod=pod, username="carol", level=L.READ)
    return pod


def test_derived_pod_keeps_placeholders_for_readers(docpod, client_for):
    response = client_for("carol").get("/v3/pods/docpod/derived")
    assert response.status_code == 200
    body = response.json()
    assert NEO4J_PLACEHOLDERS.items() <= body["result"]["environment_variables"].items()
    assert body["metadata"]["credentials_resolved"] is False
    assert set(body["metadata"]["unresolved_placeholders"]) == {"admin_password", "admin_username", "user_password",
                                                                "user_username"}
    assert body["metadata"]["template_chain"] == [docpod.template]
    assert body["metadata"]["provenance"]["image"] == "template"
    assert body["metadata"]["provenance"]["description"] == "pod"
    assert docpod.credentials.user_password not in response.content.decode()


def test_only_pod_admins_resolve_the_credentials(docpod, client_for):
    assert client_for("carol").get("/v3/pods/docpod/derived?resolve_secrets=true").status_code == 403
    env = client_for("alice").get("/v3/pods/docpod/derived?resolve_secrets=true").json()["result"][
        "environment_variables"]
    creds = docpod.credentials
    assert env["PODS_USER_PASSWORD"] == creds.user_password
    assert env["PODS_USER_USERNAME"] == "docpod"
    assert env["NEO4J_AUTH"] == f"neo4j/{creds.admin_password}"


def test_no_ordinary_response_shows_the_credentials(docpod, client_for):
    alice = client_for("alice")
    creds = docpod.credentials
    for path in ("/v3/pods", "/v3/pods/docpod", "/v3/pods/docpod/derived", "/v3/pods/docpod/logs",
                 "/v3/pods/docpod/permissions"):
        text = alice.get(path).content.decode()
        assert creds.user_password not in text and creds.admin_password not in text, path
    assert alice.get("/v3/pods/docpod/credentials").json()["result"]["user_password"] == creds.user_password


def test_the_worker_gets_the_derived_pod_with_credentials_resolved(docpod):
    from workers.spec import pod_spec_for

    spec = pod_spec_for(Pod.objects.select_related("tenant").get(pk=docpod.pk))
    assert spec.image == "neo4j:5-community"
    assert spec.ports == {"default": 7687, "browser": 7474}
    assert spec.secret_env["PODS_USER_PASSWORD"] == docpod.credentials.user_password
    assert spec.secret_env["NEO4J_AUTH"] == f"neo4j/{docpod.credentials.admin_password}"
    assert "PODS_USER_PASSWORD" not in spec.env and spec.env["NEO4J_server_memory_pagecache_size"] == "512m"
    assert spec.mem_limit_mi == 3072 and spec.cpu_request_m == 500
    assert spec.command[:2] == ["/bin/bash", "-c"]
    assert set(spec.capabilities_add) == {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}


def test_the_proxy_routes_the_templates_ports(docpod):
    from workers.traefik import render

    config = render([Pod.objects.select_related("tenant").get(pk=docpod.pk)])
    assert "HostSNI(`docpod.pods.localhost`)" in str(config["tcp"]["routers"])
    assert "Host(`docpod-browser.pods.localhost`)" in str(config["http"]["routers"])


def test_templates_building_on_templates(alice, make_template, publish):
    graph = make_template("biggraph", owner="alice")
    publish(graph, {"template": "neo4j", "environment_variables": {"LAYER": "biggraph"},
                    "resources": {"mem_limit": 6144}})
    created(create(alice, template="biggraph", environment_variables={"MINE": "1"}))
    body = alice.get("/v3/pods/docpod/derived").json()
    env = body["result"]["environment_variables"]
    assert env["LAYER"] == "biggraph" and env["MINE"] == "1" and "NEO4J_AUTH" in env
    assert body["result"]["resources"]["mem_limit"] == 6144
    assert body["result"]["image"] == "neo4j:5-community"
    assert sorted(body["result"]["networking"]) == ["browser", "default"]
    assert [ref.split(":")[0] for ref in body["metadata"]["template_chain"]] == ["neo4j", "biggraph"]


def test_a_loop_made_behind_the_apis_back_is_refused_when_deriving(docpod, client_for, make_template, publish):
    other = publish(make_template("other", owner="alice"), {"template": "neo4j"})
    TemplateTag.objects.filter(pk=docpod.template_tag_id).update(base=other)  # neo4j → other → neo4j
    response = client_for("alice").get("/v3/pods/docpod/derived")
    assert response.status_code == 409
    assert "loop" in message_text(response.json())


def test_a_pod_whose_chain_is_broken_goes_to_error_in_the_worker(docpod, make_template, publish):
    from workers.spawner import create_objects

    other = publish(make_template("other", owner="alice"), {"template": "neo4j"})
    TemplateTag.objects.filter(pk=docpod.template_tag_id).update(base=other)
    Pod.objects.filter(pk=docpod.pk).update(status="SPAWNER SETUP")
    assert create_objects(Pod.objects.select_related("tenant").get(pk=docpod.pk)) == "invalid spec"
    pod = Pod.objects.get(pk=docpod.pk)
    assert pod.status == "ERROR" and "loop" in pod.status_container["message"]


# --- Updating and moving between versions ------------------------------------------------------

def test_update_env_replaces_the_users_keys_and_keeps_the_templates(docpod, client_for):
    alice = client_for("alice")
    first = alice.put("/v3/pods/docpod", {"environment_variables": {"A": "1"}}, format="json").json()
    assert first["metadata"]["changed_fields"] == ["environment_variables"]
    assert first["result"]["environment_variables"]["A"] == "1"
    env = alice.put("/v3/pods/docpod", {"environment_variables": {"B": "2"}}, format="json").json()["result"][
        "environment_variables"]
    assert "A" not in env and env["B"] == "2" and env["NEO4J_AUTH"] == "neo4j/<<TAPIS_admin_password>>"


def test_update_resources_one_key_keeps_the_template_for_the_others(docpod, client_for):
    response = client_for("alice").put("/v3/pods/docpod", {"resources": {"cpu_limit": 3000}}, format="json")
    assert response.json()["result"]["resources"]["cpu_limit"] == 3000
    assert "resources.cpu_limit" in Pod.objects.get().modified_fields
    assert "resources.mem_limit" not in Pod.objects.get().modified_fields


def test_update_moves_the_pod_to_another_template_or_detaches_it(docpod, client_for):
    alice = client_for("alice")
    moved = alice.put("/v3/pods/docpod", {"template": "postgres"}, format="json").json()["result"]
    assert moved["template"].startswith("postgres:latest@") and moved["image"] == "postgres:16"
    assert sorted(moved["networking"]) == ["default"] and moved["networking"]["default"]["protocol"] == "postgres"
    assert moved["description"] == "My example pod!"  # the user's own field stays
    detached = alice.put("/v3/pods/docpod", {"template": ""}, format="json").json()["result"]
    assert detached["template"] == "" and detached["image"] == "postgres:16"
    assert Pod.objects.get().template_tag is None
    assert alice.get("/v3/pods/docpod/derived").json()["result"]["image"] == "postgres:16"


def test_restart_with_grab_latest_moves_to_the_newest_version(docpod, client_for, publish_catalog_version):
    alice = client_for("alice")
    alice.put("/v3/pods/docpod", {"resources": {"cpu_limit": 3000}}, format="json")
    old_template = Pod.objects.get().template
    newest = publish_catalog_version("neo4j", mem_limit=6144, cpu_limit=1000)
    assert alice.get("/v3/pods/docpod/restart").json()["result"]["template"] == old_template
    restarted = alice.get("/v3/pods/docpod/restart?grab_latest_template_tag=True").json()["result"]
    assert restarted["template"] == newest.reference
    pod = Pod.objects.get()
    assert pod.template_tag == newest and pod.status_requested == "RESTART"
    assert pod.resources["mem_limit"] == 6144  # from the new version
    assert pod.resources["cpu_limit"] == 3000  # the user's own value
    assert alice.get("/v3/pods/docpod/derived").json()["result"]["resources"]["mem_limit"] == 6144


def test_a_version_a_pod_runs_cannot_be_deleted(docpod, make_template, publish, client_for, tenant):
    template = make_template("mine", owner="alice")
    version = publish(template)
    created(create(client_for("alice"), pod_id="minepod", template="mine"))
    alice = client_for("alice")
    response = alice.delete(f"/v3/pods/templates/mine/tags/{version.tag_timestamp}")
    assert response.status_code == 409 and "1 pod(s)" in message_text(response.json())
    assert alice.delete("/v3/pods/templates/mine").status_code == 409
    alice.delete("/v3/pods/minepod")
    assert alice.delete("/v3/pods/templates/mine").status_code == 200


# --- save_pod_as_template_tag ------------------------------------------------------------------

def test_save_pod_as_template_tag_keeps_the_base_and_the_users_changes(docpod, client_for, make_template):
    make_template("mygraph", owner="alice")
    alice = client_for("alice")
    alice.put("/v3/pods/docpod", {"resources": {"mem_limit": 4096}, "environment_variables": {"X": "1"},
                                  "networking": {"web": {"port": 8080}}}, format="json")
    response = alice.post("/v3/pods/docpod/save_pod_as_template_tag",
                          {"template_id": "mygraph", "commit_message": "from my pod", "tag": "v1"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["message"] == "Template tag added successfully."
    version = response.json()["result"]
    assert version["tag"] == "v1" and version["added_by"] == "alice"
    assert version["pod_definition"] == {
        "template": docpod.template, "description": "My example pod!", "resources": {"mem_limit": 4096},
        "environment_variables": {"X": "1"}, "networking": {"web": {"port": 8080}}}
    # A pod from the saved version derives the same pod.
    created(create(alice, pod_id="copy", template="mygraph:v1"))
    copy = alice.get("/v3/pods/copy/derived").json()["result"]
    original = alice.get("/v3/pods/docpod/derived").json()["result"]
    for name in ("image", "environment_variables", "resources", "command", "description"):
        assert copy[name] == original[name], name
    assert sorted(copy["networking"]) == sorted(original["networking"])


def test_save_pod_of_a_custom_pod(tenant, client_for, make_template, site_image):
    alice = client_for("alice")
    created(create(alice, pod_id="webapp", image="kubesim/happy:2", command=["serve"],
                   networking={"default": {"port": 8000}}))
    make_template("webtpl", owner="alice")
    response = alice.post("/v3/pods/webapp-default/save_pod_as_template_tag",
                          {"template_id": "webtpl", "commit_message": "web"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["pod_definition"] == {
        "image": "kubesim/happy:2", "command": ["serve"], "networking": {"default": {"port": 8000}}}


@pytest.mark.parametrize("who,template_id,status", [
    ("carol", "mygraph", 403),     # READ on the pod: not its ADMIN
    ("alice", "bobs", 404),        # cannot see bob's template
    ("alice", "readonly", 403),    # only READ on the template
    ("alice", "neo4j", 403),       # the catalog is read-only
    ("alice", "nosuch", 404),
    ("mallory", "mygraph", 404),   # cannot see the pod
])
def test_save_pod_as_template_tag_access(docpod, client_for, make_template, who, template_id, status):
    make_template("mygraph", owner="alice")
    make_template("bobs", owner="bob")
    readonly = make_template("readonly", owner="bob")
    TemplatePermission.objects.create(template=readonly, username="alice", level=L.READ)
    response = client_for(who).post("/v3/pods/docpod/save_pod_as_template_tag",
                                    {"template_id": template_id, "commit_message": "x"}, format="json")
    assert response.status_code == status, response.json()
    assert not TemplateTag.objects.filter(template__template_id__in=["mygraph", "bobs", "readonly"]).exists()


@pytest.mark.parametrize("body,field", [({"commit_message": "x"}, "template_id"),
                                        ({"template_id": "mygraph"}, "commit_message"),
                                        ({"template_id": "mygraph", "commit_message": "x", "tag": "bad tag"}, "tag"),
                                        ({"template_id": "mygraph", "commit_message": "x", "extra": 1}, "extra")])
def test_save_pod_as_template_tag_bad_input(docpod, client_for, make_template, body, field):
    make_template("mygraph", owner="alice")
    assert_400_naming(client_for("alice").post("/v3/pods/docpod/save_pod_as_template_tag", body, format="json"),
                      field)


def test_save_pod_as_template_tag_needs_a_token(docpod, api):
    assert api.post("/v3/pods/docpod/save_pod_as_template_tag", {}, format="json").status_code == 401
