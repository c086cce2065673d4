"""Templates and images point at tenancy.Tenant (same table, pods_tenant): state only, no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('templates_catalog', '0001_templates_and_images'),
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='image',
                    name='tenant',
                    field=models.ForeignKey(blank=True, help_text='Tenant whose admin manages this entry; empty for site entries.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='images', to='tenancy.tenant'),
                ),
                migrations.AlterField(
                    model_name='template',
                    name='tenant',
                    field=models.ForeignKey(blank=True, help_text='Owning tenant; empty for the built-in catalog.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='templates', to='tenancy.tenant'),
                ),
            ],
            database_operations=[],
        ),
    ]
