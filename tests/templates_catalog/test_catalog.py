"""The built-in catalog: what it holds, idempotent installation, read-only for every tenant."""
import subprocess
from dataclasses import replace

import pytest
from django.conf import settings
from django.core.management import call_command

from podspec.images import image_name
from templates_catalog.catalog.definitions import CATALOG, JUPYTERLAB, NEO4J, POSTGRES
from templates_catalog.catalog.install import catalog_install
from templates_catalog.models import Image, Template, TemplateTag

CREDENTIAL_PLACEHOLDERS = {"<<TAPIS_user_username>>", "<<TAPIS_user_password>>", "<<TAPIS_admin_username>>",
                           "<<TAPIS_admin_password>>"}


def test_install_creates_templates_versions_and_site_images(db):
    changes = catalog_install()
    assert len(changes) == 12
    for entry in CATALOG:
        template = Template.objects.get(template_id=entry.template_id)
        assert template.is_builtin
        assert [p.as_wire() for p in template.permissions.all()] == ["**:READ"]
        version = template.tags.get()
        assert version.tag == "latest" and version.added_by == "catalog"
        assert version.pod_definition["image"] == entry.pod_definition["image"]
    assert {(i.image, tuple(i.tenants)) for i in Image.objects.filter(tenant=None)} == {
        ("neo4j", ("**",)), ("postgres", ("**",)), ("quay.io/jupyter/minimal-notebook", ("**",))}


def test_install_is_idempotent(db):
    catalog_install()
    counts = (Template.objects.count(), TemplateTag.objects.count(), Image.objects.count())
    assert catalog_install() == []
    assert (Template.objects.count(), TemplateTag.objects.count(), Image.objects.count()) == counts


def test_a_changed_definition_publishes_a_new_version(db):
    catalog_install()
    first = TemplateTag.objects.get(template__template_id="postgres")
    bigger = replace(POSTGRES, pod_definition={**POSTGRES.pod_definition,
                                               "resources": {"cpu_request": 500, "cpu_limit": 4000}})
    changes = catalog_install((bigger,))
    assert any("published" in line for line in changes)
    newest = TemplateTag.objects.filter(template__template_id="postgres").order_by("-creation_ts").first()
    assert newest != first and newest.pod_definition["resources"]["cpu_limit"] == 4000
    assert TemplateTag.objects.filter(pk=first.pk).exists()  # old versions stay for pinned pods


def test_an_operators_image_policy_is_kept(db, make_tenant):
    catalog_install()
    Image.objects.filter(image="neo4j").update(tenants=["**", "-restricted"])
    catalog_install()
    assert Image.objects.get(image="neo4j").tenants == ["**", "-restricted"]


def test_every_catalog_image_is_on_the_allow_list_it_installs(db):
    catalog_install()
    for entry in CATALOG:
        assert image_name(entry.pod_definition["image"]) in {i.image for i in entry.images}


def test_management_command(db, capsys):
    call_command("install_catalog")
    assert "Catalog installed" in capsys.readouterr().out
    call_command("install_catalog")
    assert "up to date" in capsys.readouterr().out


# --- What the definitions say ------------------------------------------------------------------

def test_neo4j_has_bolt_and_browser_and_both_accounts_from_the_credentials():
    definition = NEO4J.pod_definition
    assert definition["networking"] == {"default": {"protocol": "tcp", "port": 7687},
                                        "browser": {"protocol": "http", "port": 7474}}
    assert list(definition["networking"]) == ["default", "browser"]
    env = definition["environment_variables"]
    assert CREDENTIAL_PLACEHOLDERS <= set(env.values())
    assert env["NEO4J_AUTH"] == "neo4j/<<TAPIS_admin_password>>"
    # Neo4j turns NEO4J_* variables into settings and refuses unknown ones.
    assert not [k for k in env if k.startswith("NEO4J_") and "PODS" in k]


def test_neo4j_start_script_is_valid_bash():
    command = NEO4J.pod_definition["command"]
    assert command[:2] == ["/bin/bash", "-c"]
    result = subprocess.run(["bash", "-n", "-c", command[2]], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ("PODS_ADMIN_USERNAME", "PODS_USER_USERNAME", "CREATE USER", "docker-entrypoint.sh"):
        assert name in command[2]


def test_postgres_speaks_postgres_on_5432_with_the_pods_user():
    definition = POSTGRES.pod_definition
    assert definition["networking"] == {"default": {"protocol": "postgres", "port": 5432}}
    env = definition["environment_variables"]
    assert env["POSTGRES_USER"] == "<<TAPIS_user_username>>"
    assert env["POSTGRES_PASSWORD"] == "<<TAPIS_user_password>>"
    assert "ssl=on" in definition["arguments"]


def test_jupyterlab_on_8888_with_the_token_from_the_credentials():
    definition = JUPYTERLAB.pod_definition
    assert definition["networking"] == {"default": {"protocol": "http", "port": 8888}}
    assert definition["environment_variables"] == {"JUPYTER_TOKEN": "<<TAPIS_user_password>>"}


@pytest.mark.parametrize("entry", CATALOG, ids=[e.template_id for e in CATALOG])
def test_resources_are_sensible_and_within_the_sites_bounds(entry):
    resources = entry.pod_definition["resources"]
    assert settings.PODS_CPU_MIN <= resources["cpu_request"] <= resources["cpu_limit"] <= settings.PODS_CPU_MAX
    assert settings.PODS_MEM_MIN <= resources["mem_request"] <= resources["mem_limit"] <= settings.PODS_MEM_MAX
    assert resources["mem_limit"] >= 1024 or entry is POSTGRES


@pytest.mark.parametrize("entry", CATALOG, ids=[e.template_id for e in CATALOG])
def test_descriptions_tell_a_researcher_how_to_connect_and_log_in(entry):
    text = entry.description
    assert "get_pod_credentials" in text and "URL" in text
    assert "lost when the pod stops" in text
    assert len(text) <= 1600


# --- Through the API ---------------------------------------------------------------------------

def test_every_tenant_reads_the_catalog(catalog, tenant, other_tenant, client_for):
    for client in (client_for("alice"), client_for("olga", in_tenant=other_tenant)):
        response = client.get("/v3/pods/templates/neo4j/tags/latest")
        assert response.status_code == 200
        assert response.json()["result"][0]["pod_definition"]["networking"]["default"]["port"] == 7687


@pytest.mark.parametrize("method,suffix,body", [
    ("put", "", {"description": "mine"}),
    ("delete", "", None),
    ("post", "/tags", {"pod_definition": {"image": "neo4j"}, "commit_message": "x"}),
    ("delete", "/tags/latest", None),
])
def test_the_catalog_is_read_only_through_the_api_even_for_admins(catalog, tenant, client_for, method, suffix,
                                                                   body):
    response = getattr(client_for("boss", admin_mode=True), method)(
        f"/v3/pods/templates/neo4j{suffix}", body, format="json")
    assert response.status_code == 403
    assert "built-in" in response.json()["message"]
