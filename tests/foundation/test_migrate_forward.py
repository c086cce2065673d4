"""A database made by the layout before the tenancy app existed migrates forward intact.

Tenants and their keys were born in the ``pods`` app (``pods/0001``); they now live in
``tenancy`` with the same tables. The test rolls the schema back to the last migrations of that
layout, writes one of every kind of row through the historical models, migrates forward, and
reads every row back through today's models, including the encrypted secrets.
"""
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tenancy import crypto

pytestmark = pytest.mark.django_db(transaction=True)

OLD_LAYOUT = [("pods", "0003_pod_templates"), ("templates_catalog", "0001_templates_and_images")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_old_layout_database_migrates_forward_with_every_row():
    executor = _migrate([*OLD_LAYOUT, ("tenancy", None)])
    old = executor.loader.project_state(OLD_LAYOUT).apps
    assert old.get_model("pods", "Tenant")._meta.db_table == "pods_tenant"

    Tenant, TenantKey = old.get_model("pods", "Tenant"), old.get_model("pods", "TenantKey")
    tenant = Tenant.objects.create(tenant_id="lab", site_id="tacc", pod_domain="lab.example.org",
                                   admins=["boss"], max_pods=7, oidc_issuer="https://idp.example.org")
    key = TenantKey.objects.create(tenant=tenant, kid="k1", public_key_pem="PEM\n",
                                   private_key_encrypted=crypto.encrypt("PRIVATE PEM"))
    Template = old.get_model("templates_catalog", "Template")
    template = Template.objects.create(tenant=tenant, template_id="mydb", description="d",
                                       metatags=["db"], created_by="alice")
    old.get_model("templates_catalog", "TemplatePermission").objects.create(
        template=template, username="alice", level=3, granted_by="alice")
    stamp = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    tag = old.get_model("templates_catalog", "TemplateTag").objects.create(
        template=template, tag="latest", creation_ts=stamp, pod_definition={"image": "postgres:16"},
        commit_message="first", added_by="alice")
    old.get_model("templates_catalog", "Image").objects.create(tenant=tenant, image="postgres",
                                                               tenants=["lab"], added_by="boss")
    Pod = old.get_model("pods", "Pod")
    pod = Pod.objects.create(tenant=tenant, pod_id="db1", image="postgres:16", template="mydb",
                             template_tag=tag, modified_fields=["template"], status="AVAILABLE",
                             environment_variables={"A": "<<TAPIS_user_password>>"},
                             instance_id=uuid.uuid4())
    old.get_model("pods", "PodPermission").objects.create(pod=pod, username="alice", level=3)
    old.get_model("pods", "PodEvent").objects.create(pod=pod, pod_uid=pod.uid, tenant=tenant,
                                                     pod_name="db1", actor="alice", kind="create",
                                                     to_status="REQUESTED", message="created")
    old.get_model("pods", "PodCredentials").objects.create(
        pod=pod, user_username="db1", user_password_encrypted=crypto.encrypt("user-secret"),
        admin_password_encrypted=crypto.encrypt("admin-secret"))
    old.get_model("pods", "PodLogRun").objects.create(pod=pod, instance_id=pod.instance_id,
                                                      text="hello\n", bytes=6)
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.filter(app_label="tenancy").delete()
    old_type = ContentType.objects.get_or_create(app_label="pods", model="tenant")[0]

    _migrate(_latest())

    from pods.models import Pod as NewPod
    from pods.models import PodCredentials, PodEvent, PodLogRun, PodPermission
    from templates_catalog.models import Image, Template as NewTemplate, TemplatePermission, TemplateTag
    from tenancy.models import Tenant as NewTenant
    from tenancy.models import TenantKey as NewKey

    t = NewTenant.objects.get(tenant_id="lab")
    assert (t.pk, t.site_id, t.pod_domain, t.admins, t.max_pods, t.oidc_issuer) == (
        tenant.pk, "tacc", "lab.example.org", ["boss"], 7, "https://idp.example.org")
    k = NewKey.objects.get()
    assert (k.pk, k.tenant, k.kid, k.private_key_pem()) == (key.pk, t, "k1", "PRIVATE PEM")
    p = NewPod.objects.select_related("tenant", "template_tag").get()
    assert (p.pk, p.tenant, p.pod_id, p.status, p.uid, p.template_tag.pk) == (
        pod.pk, t, "db1", "AVAILABLE", pod.uid, tag.pk)
    assert p.environment_variables == {"A": "<<TAPIS_user_password>>"}
    creds = PodCredentials.objects.get(pod=p)
    assert (creds.user_password, creds.admin_password) == ("user-secret", "admin-secret")
    assert PodPermission.objects.get().as_wire() == "alice:ADMIN"
    event = PodEvent.objects.get()
    assert (event.tenant, event.pod, event.message) == (t, p, "created")
    assert PodLogRun.objects.get().text == "hello\n"
    tpl = NewTemplate.objects.get()
    assert (tpl.pk, tpl.tenant, tpl.template_id, tpl.metatags) == (template.pk, t, "mydb", ["db"])
    assert TemplatePermission.objects.get().as_wire() == "alice:ADMIN"
    version = TemplateTag.objects.get()
    assert (version.reference, version.pod_definition) == ("mydb:latest@2026-11-30-12:00:00",
                                                           {"image": "postgres:16"})
    assert Image.objects.get().tenant == t
    # Reverse relations and new rows work on the kept tables (their sequences carried on).
    assert list(t.pods.all()) == [p] and list(t.keys.all()) == [k]
    assert NewTenant.objects.create(tenant_id="lab2", pod_domain="x.org").pk > t.pk
    # The admin's history keeps pointing at the same content type, now tenancy's.
    assert ContentType.objects.get(pk=old_type.pk).app_label == "tenancy"
    assert not ContentType.objects.filter(app_label="pods", model="tenant").exists()
