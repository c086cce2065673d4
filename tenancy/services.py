"""Service functions for tenants and their keys (used by admin actions and manage.py commands)."""
from django.db import transaction

from tenancy.identity.keys import generate_rsa_keypair, sign_rs256, tapis_claims
from tenancy.models import Tenant, TenantKey


@transaction.atomic
def tenant_create(*, tenant_id: str, pod_domain: str, site_id: str = "local", base_url: str = "",
                  admins=(), public_key_pem: str | None = None, generate_key: bool = False) -> Tenant:
    """Create a tenant, validating every field, with an imported or a generated key."""
    tenant = Tenant(tenant_id=tenant_id, pod_domain=pod_domain, site_id=site_id, base_url=base_url,
                    admins=list(admins))
    tenant.full_clean()
    tenant.save()
    if public_key_pem:
        tenant_key_add(tenant=tenant, public_key_pem=public_key_pem)
    if generate_key:
        tenant_key_generate(tenant=tenant)
    return tenant


def tenant_key_add(*, tenant: Tenant, public_key_pem: str, kid: str = "") -> TenantKey:
    key = TenantKey(tenant=tenant, public_key_pem=public_key_pem.strip() + "\n", kid=kid)
    key.full_clean()
    key.save()
    return key


def tenant_key_generate(*, tenant: Tenant, kid: str = "") -> TenantKey:
    """A new key pair whose private half is kept (encrypted) for signing development tokens."""
    private_pem, public_pem = generate_rsa_keypair()
    key = TenantKey(tenant=tenant, public_key_pem=public_pem, kid=kid)
    key.set_private_key(private_pem)
    key.full_clean()
    key.save()
    return key


def dev_token(*, tenant: Tenant, username: str, ttl: int = 86400) -> str:
    """Sign a Tapis-shaped token with the tenant's newest stored signing key."""
    key = tenant.keys.filter(is_active=True).exclude(private_key_encrypted="").first()
    if key is None:
        raise ValueError(f"Tenant {tenant.tenant_id!r} has no stored signing key; "
                         "create one with `create_tenant --generate-key` or the admin site.")
    claims = tapis_claims(tenant_id=tenant.tenant_id, username=username, ttl=ttl, issuer=tenant.base_url)
    return sign_rs256(claims, key.private_key_pem(), kid=key.kid)
