"""Fixtures for the templates catalog: principals, templates and versions made through services."""
import pytest

HAPPY = "kubesim/happy"


@pytest.fixture
def site_image(db):
    """``site_image("kubesim/happy")`` → a site allow-list entry (admitting every tenant by default)."""
    from templates_catalog.models import Image

    def _add(name=HAPPY, tenants=("**",)):
        image, _ = Image.objects.update_or_create(tenant=None, image=name,
                                                  defaults={"tenants": list(tenants), "added_by": "site"})
        return image

    return _add


@pytest.fixture
def make_template(principal_for):
    """``make_template("mytpl", owner="alice")`` through ``template_create``."""
    from templates_catalog.services import template_create

    def _make(template_id="mytpl", owner="alice", in_tenant=None, **fields):
        return template_create(principal=principal_for(owner, in_tenant),
                               data={"template_id": template_id, **fields})

    return _make


@pytest.fixture
def publish(principal_for, site_image):
    """``publish(template, {"image": ...}, tag="latest", as_user="alice")`` through the service,
    with the definition checked by the API's serializer first."""
    from templates_catalog.api.serializers import TemplatePodDefinitionSerializer
    from templates_catalog.services import template_tag_publish

    site_image(HAPPY)

    def _publish(template, definition=None, tag="latest", as_user="alice", message="a version"):
        serializer = TemplatePodDefinitionSerializer(data={"image": HAPPY} if definition is None else definition)
        serializer.is_valid(raise_exception=True)
        principal = None if template.is_builtin else principal_for(as_user, template.tenant)
        return template_tag_publish(template=template, added_by=as_user, principal=principal,
                                    pod_definition=serializer.validated_data, commit_message=message, tag=tag)

    return _publish


@pytest.fixture
def catalog(db):
    from templates_catalog.catalog.install import catalog_install

    catalog_install()


def assert_400_naming(response, field, words=""):
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["status"] == "error"
    assert field in body["metadata"]["errors"], body
    assert words.lower() in " ".join(body["metadata"]["errors"][field]).lower(), body
