"""Every template and image operation through tapipy (the official client) against a live server."""
import pytest
import requests

pytestmark = pytest.mark.live


@pytest.fixture
def live(live_server, transactional_db, make_tenant):
    from templates_catalog.catalog.install import catalog_install

    tenant = make_tenant("dev", admins=["boss"])
    other = make_tenant("other")
    catalog_install()
    return live_server, tenant, other


@pytest.fixture
def tapis_for(live):
    from tapipy.tapis import Tapis

    from tenancy.services import dev_token

    live_server, tenant, _ = live

    def _client(username, in_tenant=None):
        t = in_tenant or tenant
        return Tapis(base_url=live_server.url, tenant_id=t.tenant_id,
                     access_token=dev_token(tenant=t, username=username))

    return _client


ADMIN_MODE = {"X-Pods-Admin": "true"}  # image writes need it (tapipy passes headers= through)


def raw(live, method, path, username, json=None, tenant=None, admin_mode=False):
    """Operations tapipy 25.4.0 does not have (update_image, delete_template_tag)."""
    from tenancy.services import dev_token

    live_server, dev, _ = live
    token = dev_token(tenant=tenant or dev, username=username)
    return requests.request(method, f"{live_server.url}/v3{path}", json=json, timeout=10,
                            headers={"X-Tapis-Token": token, **(ADMIN_MODE if admin_mode else {})})


def test_template_operations_through_tapipy(live, tapis_for):
    from tapipy.errors import BadRequestError, ForbiddenError, NotFoundError

    alice = tapis_for("alice")
    created = alice.pods.add_template(template_id="mygraph", description="My graph", metatags=["graph"])
    assert created.template_id == "mygraph" and created.metatags == ["graph"]

    listed = alice.pods.list_templates()
    assert {t.template_id for t in listed} == {"mygraph", "neo4j", "postgres", "jupyterlab"}
    assert alice.pods.get_template(template_id="mygraph").description == "My graph"
    assert alice.pods.update_template(template_id="mygraph", description="Changed").description == "Changed"

    version = alice.pods.add_template_tag(
        template_id="mygraph", commit_message="Bigger neo4j", tag="v1",
        pod_definition={"template": "neo4j", "resources": {"mem_limit": 4096}})
    assert version.tag == "v1" and version.pod_definition.template.startswith("neo4j:latest@")
    tags = alice.pods.list_template_tags(template_id="mygraph")
    assert [t.tag_timestamp for t in tags] == [version.tag_timestamp]
    by_name = alice.pods.get_template_tag(template_id="mygraph", tag_id="v1")
    pinned = alice.pods.get_template_tag(template_id="mygraph", tag_id=version.tag_timestamp)
    assert [t.tag_timestamp for t in by_name] == [t.tag_timestamp for t in pinned] == [version.tag_timestamp]
    both = alice.pods.list_templates_and_tags()
    assert both.mygraph.tags[0].tag == "v1"

    perms = alice.pods.set_template_permission(template_id="mygraph", user="bob", level="READ")
    assert perms.permissions == ["alice:ADMIN", "bob:READ"]
    assert alice.pods.get_template_permissions(template_id="mygraph").permissions == ["alice:ADMIN", "bob:READ"]
    bob = tapis_for("bob")
    assert bob.pods.get_template(template_id="mygraph").template_id == "mygraph"
    with pytest.raises(ForbiddenError):
        bob.pods.update_template(template_id="mygraph", description="mine")
    assert alice.pods.delete_template_permission(template_id="mygraph", user="bob").permissions == ["alice:ADMIN"]
    with pytest.raises(NotFoundError):
        bob.pods.get_template(template_id="mygraph")

    with pytest.raises(BadRequestError) as bad:
        alice.pods.add_template(template_id="Bad-Id")
    assert "template_id" in str(bad.value.message)

    gone = raw(live, "delete", f"/pods/templates/mygraph/tags/{version.tag_timestamp}", "alice")
    assert gone.status_code == 200 and gone.json()["metadata"]["deleted"] == [version.tag_timestamp]
    deleted = alice.pods.delete_template(template_id="mygraph")
    assert deleted["status"] == "success" and deleted["result"] == ""  # tapipy hands back falsy results whole
    with pytest.raises(NotFoundError):
        alice.pods.get_template(template_id="mygraph")


def test_image_operations_through_tapipy(live, tapis_for):
    from tapipy.errors import BaseTapyException, ForbiddenError, NotFoundError

    boss = tapis_for("boss")
    with pytest.raises(ForbiddenError) as without_mode:
        boss.pods.add_image(image="jupyter/datascience-notebook:2024-01-01", description="Data science")
    assert "admin mode" in str(without_mode.value)
    added = boss.pods.add_image(image="jupyter/datascience-notebook:2024-01-01", description="Data science",
                                headers=ADMIN_MODE)
    assert added.image == "jupyter/datascience-notebook" and added.tenants == ["dev"]
    bulk = boss.pods.add_images(request_body=[{"image": "lab/one"}, {"image": "jupyter/datascience-notebook"}],
                                skip_duplicates=True, headers=ADMIN_MODE)
    assert [i.image for i in bulk] == ["lab/one"]
    with pytest.raises(BaseTapyException) as duplicate:
        boss.pods.add_images(request_body=[{"image": "lab/one"}], headers=ADMIN_MODE)
    assert duplicate.value.response.status_code == 409

    images = boss.pods.get_images()
    assert {i.image for i in images} >= {"jupyter/datascience-notebook", "lab/one", "neo4j", "postgres"}
    fetched = boss.pods.get_image(image_id="jupyter/datascience-notebook")
    assert fetched.image == "jupyter/datascience-notebook" and fetched.added_by == "boss"

    updated = raw(live, "put", "/pods/images/lab/one", "boss", json={"tenants": ["-dev"]}, admin_mode=True)
    assert updated.status_code == 200 and updated.json()["result"]["tenants"] == ["-dev"]

    with pytest.raises(ForbiddenError):  # a tenant admin's entries name their own tenant only
        boss.pods.add_image(image="lab/shared", tenants=["other"], headers=ADMIN_MODE)
    _, _, other = live
    olga = tapis_for("olga", in_tenant=other)
    for image_id in ("lab/one", "jupyter/datascience-notebook"):  # another tenant's entries
        with pytest.raises(NotFoundError):
            olga.pods.get_image(image_id=image_id)

    with pytest.raises(ForbiddenError):
        tapis_for("alice").pods.add_image(image="lab/two")
    with pytest.raises(ForbiddenError):
        boss.pods.delete_image(image_id="jupyter/datascience-notebook")
    assert boss.pods.delete_image(image_id="jupyter/datascience-notebook",
                                  headers=ADMIN_MODE) == "jupyter/datascience-notebook"
    with pytest.raises(NotFoundError):
        boss.pods.get_image(image_id="jupyter/datascience-notebook")
