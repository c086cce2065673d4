"""Security fields of tenants: service-token issuers, the OIDC audience opt-out, a per-user pod
quota, and one tenant per pod domain.

Before the unique constraint is added, pod domains are lowercased, and a database where two
tenants already share one stops the migration with a message naming them (an operator must
give one of them another domain first: their pods' URLs collide).
"""

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.functions.text
from django.db import migrations, models


def refuse_shared_domains(apps, schema_editor):
    Tenant = apps.get_model("tenancy", "Tenant")
    seen = {}
    for tenant_id, domain in Tenant.objects.order_by("pk").values_list("tenant_id", "pod_domain"):
        seen.setdefault(domain.strip().lower().rstrip("."), []).append(tenant_id)
    shared = {domain: ids for domain, ids in seen.items() if len(ids) > 1}
    if shared:
        raise RuntimeError("Tenants share pod domains (their pod URLs collide); give each its own before "
                           "migrating: " + "; ".join(f"{d}: {', '.join(ids)}" for d, ids in sorted(shared.items())))


class Migration(migrations.Migration):

    dependencies = [
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='tenant',
            name='max_pods_per_user',
            field=models.PositiveIntegerField(blank=True, help_text='Pods one user may create. Empty: the site default (PODS_USER_MAX_PODS).', null=True),
        ),
        migrations.AddField(
            model_name='tenant',
            name='may_issue_service_tokens',
            field=models.BooleanField(default=False, help_text="Tokens with tapis/account_type 'service' signed by this tenant's keys may act on behalf of users (X-Tapis-User, X-Tapis-Tenant). Upstream: the site's admin tenant only.", verbose_name='may issue service tokens'),
        ),
        migrations.AddField(
            model_name='tenant',
            name='oidc_accept_any_audience',
            field=models.BooleanField(default=False, help_text="Accept tokens the issuer made for any of its clients (no `aud` check). Only for a provider that serves this service alone: otherwise any client's tokens work here.", verbose_name='accept any OIDC audience'),
        ),
        migrations.AddField(
            model_name='tenant',
            name='service_token_tenants',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=64, validators=[django.core.validators.RegexValidator('^(\\*|[a-z][a-z0-9]{1,63})$', "A tenant id, or '*' (every tenant of the site).")]), blank=True, default=list, help_text="Tenants its service tokens may act for: tenant ids, or '*' for every tenant of its site. Empty: its own users only.", size=None),
        ),
        migrations.AlterField(
            model_name='tenant',
            name='max_pods',
            field=models.PositiveIntegerField(blank=True, help_text='Pods in the tenant. Empty: the site default (PODS_TENANT_MAX_PODS).', null=True),
        ),
        migrations.AlterField(
            model_name='tenant',
            name='oidc_audience',
            field=models.CharField(blank=True, help_text="Required `aud` of OIDC tokens: the client id this service's tokens are issued to. Required with an issuer, unless the box below is ticked.", max_length=200),
        ),
        migrations.AlterField(
            model_name='tenant',
            name='pod_domain',
            field=models.CharField(help_text="Pod URLs are {pod_id}.pods.{pod_domain}, e.g. 'localhost' or 'tacc.example.org'. One tenant per domain.", max_length=200, validators=[django.core.validators.RegexValidator('^(?=.{1,200}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$', "A pod domain is a DNS name such as 'localhost' or 'tacc.example.org'.")]),
        ),
        migrations.RunPython(refuse_shared_domains, migrations.RunPython.noop),
        migrations.RunSQL("UPDATE pods_tenant SET pod_domain = rtrim(lower(btrim(pod_domain)), '.')",
                          migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name='tenant',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('pod_domain'), name='tenant_pod_domain_unique', violation_error_message='Another tenant already uses this pod domain: pod URLs would collide.'),
        ),
    ]
