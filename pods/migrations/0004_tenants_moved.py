"""Tenant and TenantKey left the pods app for tenancy (tenancy/0001): repoint the pods' foreign
keys and drop the old models from the state. No SQL: the tables and their rows stay as they are.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ("tenant", "tenantkey")


def move_content_types(apps, schema_editor, source="pods", target="tenancy"):
    """Keep the admin's history and permissions of the moved models: their content types
    change app instead of being recreated (and the old ones left stale)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def restore_content_types(apps, schema_editor):
    move_content_types(apps, schema_editor, source="tenancy", target="pods")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('pods', '0003_pod_templates'),
        ('tenancy', '0001_initial'),
        # The catalog's foreign keys must leave pods.Tenant before it is dropped from the state.
        ('templates_catalog', '0002_tenants_moved'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='podevent',
                    name='tenant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
                ),
                migrations.AlterField(
                    model_name='pod',
                    name='tenant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='pods', to='tenancy.tenant'),
                ),
                migrations.RemoveField(
                    model_name='tenantkey',
                    name='tenant',
                ),
                migrations.DeleteModel(
                    name='Tenant',
                ),
                migrations.DeleteModel(
                    name='TenantKey',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
