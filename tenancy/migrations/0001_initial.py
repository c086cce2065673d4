"""Tenant and TenantKey, moved here from the pods app with their tables.

The tables ``pods_tenant`` and ``pods_tenantkey`` were created by ``pods/0001_tenants`` and keep
their names, rows and sequences: this migration only tells Django's model state that the models
now belong to ``tenancy`` (no SQL). ``pods/0004`` and ``templates_catalog/0002`` then repoint
their foreign keys in the state and ``pods/0004`` drops the old models from it, again without
touching the database. A database created by any earlier version migrates forward intact.
"""

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    # The tables already exist once pods/0001 ran (on a fresh database too).
    dependencies = [
        ('pods', '0001_tenants'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Tenant',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('tenant_id', models.CharField(max_length=64, unique=True, validators=[django.core.validators.RegexValidator('^[a-z][a-z0-9]{1,63}$', "A tenant id is 2-64 lowercase letters and digits, starting with a letter (no '-').")])),
                        ('site_id', models.CharField(default='local', max_length=64, validators=[django.core.validators.RegexValidator('^[a-z0-9]+$', 'Lowercase letters and digits.')])),
                        ('base_url', models.URLField(blank=True, help_text="The tenant's API base URL (informational).")),
                        ('pod_domain', models.CharField(help_text="Pod URLs are {pod_id}.pods.{pod_domain}, e.g. 'localhost' or 'tacc.example.org'.", max_length=200)),
                        ('oidc_issuer', models.URLField(blank=True, help_text='OIDC issuer whose bearer tokens map to this tenant.', null=True, unique=True)),
                        ('oidc_audience', models.CharField(blank=True, help_text='Required `aud` of OIDC tokens (empty: not checked).', max_length=200)),
                        ('oidc_username_claim', models.CharField(default='preferred_username', max_length=100)),
                        ('admins', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=150), blank=True, default=list, help_text='Usernames with tenant-admin rights (admin mode, image writes).', size=None)),
                        ('max_pods', models.PositiveIntegerField(blank=True, help_text='Empty: unlimited.', null=True)),
                        ('max_cpu_millicores', models.PositiveIntegerField(blank=True, help_text='Total CPU limit of all pods. Empty: unlimited.', null=True)),
                        ('max_memory_mb', models.PositiveIntegerField(blank=True, help_text='Total memory limit of all pods. Empty: unlimited.', null=True)),
                        ('is_active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'pods_tenant',
                        'ordering': ['tenant_id'],
                    },
                ),
                migrations.CreateModel(
                    name='TenantKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kid', models.CharField(blank=True, help_text="Key id matched against a token's `kid`.", max_length=100)),
                        ('public_key_pem', models.TextField()),
                        ('private_key_encrypted', models.TextField(blank=True, editable=False)),
                        ('is_active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='keys', to='tenancy.tenant')),
                    ],
                    options={
                        'db_table': 'pods_tenantkey',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
