"""Admin site: templates with versions and permissions, publishing through the service, immutable
versions, images."""
import json

import pytest

from templates_catalog.models import Image, Template, TemplateTag


@pytest.fixture
def published(make_template, publish):
    template = make_template("mytpl", owner="alice")
    return publish(template)


@pytest.mark.parametrize("url", ["/admin/templates_catalog/template/", "/admin/templates_catalog/templatetag/",
                                 "/admin/templates_catalog/image/", "/admin/templates_catalog/templatetag/add/",
                                 "/admin/templates_catalog/image/add/"])
def test_pages_render(admin_client, published, catalog, url):
    assert admin_client.get(url).status_code == 200


def test_template_page_shows_versions_and_permissions(admin_client, published):
    response = admin_client.get(f"/admin/templates_catalog/template/{published.template.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert published.commit_message in content and "alice" in content


def test_changelists_do_not_query_per_row(admin_client, make_template, publish, django_assert_max_num_queries):
    for i in range(5):
        publish(make_template(f"tpl{i}", owner="alice"))
    with django_assert_max_num_queries(12):
        assert admin_client.get("/admin/templates_catalog/templatetag/").status_code == 200
    with django_assert_max_num_queries(12):
        assert admin_client.get("/admin/templates_catalog/template/").status_code == 200


def test_publishing_a_version_goes_through_the_checks(admin_client, make_template, site_image):
    site_image("kubesim/happy")
    template = make_template("mytpl", owner="alice")
    form = {"template": template.pk, "tag": "v1", "commit_message": "from the admin", "description": "",
            "pod_definition": json.dumps({"image": "kubesim/happy", "networking": {"web": {"port": 8000}}})}
    response = admin_client.post("/admin/templates_catalog/templatetag/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    version = TemplateTag.objects.get()
    assert version.tag == "v1" and version.added_by.startswith("admin-site:")
    assert version.pod_definition == {"image": "kubesim/happy", "networking": {"web": {"port": 8000}}}


@pytest.mark.parametrize("definition,words", [
    ("{not json", "Not valid JSON"),
    (json.dumps({"image": "not/allowed"}), "allow-list"),
    (json.dumps({"bogus": 1}), "Unknown field"),
])
def test_admin_refuses_what_the_api_refuses(admin_client, make_template, site_image, definition, words):
    template = make_template("mytpl", owner="alice")
    form = {"template": template.pk, "tag": "latest", "commit_message": "x", "description": "",
            "pod_definition": definition}
    response = admin_client.post("/admin/templates_catalog/templatetag/add/", form)
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not TemplateTag.objects.exists()


def test_versions_cannot_be_changed(admin_client, published):
    url = f"/admin/templates_catalog/templatetag/{published.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    response = admin_client.post(url, {"tag": "hacked", "commit_message": "hacked"})
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.tag == "latest"


def test_template_id_and_owner_are_fixed_once_created(admin_client, published):
    url = f"/admin/templates_catalog/template/{published.template.pk}/change/"
    response = admin_client.get(url)
    assert b'name="template_id"' not in response.content


def test_admin_adds_a_site_image_with_a_normalised_name(admin_client, db):
    response = admin_client.post("/admin/templates_catalog/image/add/", {
        "image": "docker.io/library/redis:7", "tenants": "**,-restricted", "description": "Redis",
        "added_by": "operator"})
    assert response.status_code == 302, response.content.decode()[:2000]
    image = Image.objects.get()
    assert (image.tenant, image.image, image.tenants) == (None, "redis", ["**", "-restricted"])


def test_builtin_templates_are_marked(admin_client, catalog):
    content = admin_client.get("/admin/templates_catalog/template/").content.decode()
    assert "built-in catalog" in content
    assert Template.objects.builtin().count() == 3
