"""manage.py commands for tenants and tokens, private-key handling, and the admin site."""
import jwt
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tenancy.identity.keys import generate_rsa_keypair
from tenancy.models import Tenant, TenantKey


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_tenant_with_generated_key(db):
    output = run("create_tenant", "acme", "--domain", "acme.example.org", "--generate-key", "--admin", "boss")
    tenant = Tenant.objects.get(tenant_id="acme")
    assert tenant.admins == ["boss"]
    key = tenant.keys.get()
    assert key.can_sign and key.fingerprint in output
    # Encrypted at rest: the stored column is not a PEM private key.
    assert "PRIVATE KEY" not in key.private_key_encrypted
    assert "PRIVATE KEY" in key.private_key_pem()


def test_create_tenant_with_public_key_file(db, tmp_path):
    _, public_pem = generate_rsa_keypair()
    path = tmp_path / "key.pem"
    path.write_text(public_pem)
    run("create_tenant", "acme", "--domain", "acme.example.org", "--public-key-file", str(path))
    key = TenantKey.objects.get(tenant__tenant_id="acme")
    assert not key.can_sign


@pytest.mark.parametrize("tenant_id", ["a", "Acme", "my-tenant", "1abc", "x" * 65])
def test_create_tenant_rejects_bad_ids(db, tenant_id):
    with pytest.raises(CommandError, match="TENANT_ID: A tenant id is"):
        run("create_tenant", tenant_id, "--domain", "x.org", "--generate-key")
    assert not Tenant.objects.exists()


def test_create_tenant_rejects_non_pem_key(db, tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("hello")
    with pytest.raises(CommandError, match="PEM"):
        run("create_tenant", "acme", "--domain", "x.org", "--public-key-file", str(path))
    assert not Tenant.objects.exists(), "nothing half-written"


def test_create_tenant_refuses_duplicates(tenant):
    with pytest.raises(CommandError, match="already exists"):
        run("create_tenant", "dev", "--domain", "x.org", "--generate-key")


@pytest.mark.parametrize("domain", ["localhost", "LocalHost", " LOCALHOST ", "localhost."])
def test_create_tenant_refuses_a_pod_domain_another_tenant_uses(tenant, domain):
    """Security finding 8: two tenants on one domain produced duplicate Host rules."""
    with pytest.raises(CommandError, match="Another tenant already uses this pod domain"):
        run("create_tenant", "acme", "--domain", domain, "--generate-key")
    assert not Tenant.objects.filter(tenant_id="acme").exists()


def test_admin_site_refuses_a_shared_pod_domain(tenant, admin_client):
    response = admin_client.post("/admin/tenancy/tenant/add/", {
        "tenant_id": "acme", "site_id": "local", "pod_domain": "LOCALHOST", "is_active": "on",
        "oidc_username_claim": "preferred_username", "keys-TOTAL_FORMS": "0", "keys-INITIAL_FORMS": "0"})
    assert response.status_code == 200  # the form again, with the error
    assert b"Another tenant already uses this pod domain" in response.content
    assert not Tenant.objects.filter(tenant_id="acme").exists()


def test_the_database_refuses_a_shared_pod_domain_too(tenant):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Tenant.objects.create(tenant_id="acme", pod_domain="LocalHost")


@pytest.mark.parametrize("domain", ["bad domain", "x-.org", "x..org", "a/b", "x.org:80"])
def test_create_tenant_rejects_a_pod_domain_that_is_not_a_dns_name(db, domain):
    with pytest.raises(CommandError, match="--domain: "):
        run("create_tenant", "acme", "--domain", domain, "--generate-key")


def test_dev_token_verifies_with_the_tenant_key(tenant):
    token = run("dev_token", "--tenant", "dev", "--username", "alice", "--ttl", "60").strip()
    claims = jwt.decode(token, tenant.keys.get().public_key_pem, algorithms=["RS256"])
    assert claims["tapis/username"] == "alice" and claims["tapis/tenant_id"] == "dev"
    assert claims["exp"] - claims["iat"] == 60


def test_dev_token_admin_flag_makes_tenant_admin(tenant):
    run("dev_token", "--tenant", "dev", "--username", "carol", "--admin")
    tenant.refresh_from_db()
    assert "carol" in tenant.admins


def test_dev_token_refuses_tenant_without_signing_key(db, tmp_path):
    _, public_pem = generate_rsa_keypair()
    path = tmp_path / "k.pem"
    path.write_text(public_pem)
    run("create_tenant", "acme", "--domain", "x.org", "--public-key-file", str(path))
    with pytest.raises(CommandError, match="no stored signing key"):
        run("dev_token", "--tenant", "acme", "--username", "alice")


def test_dev_token_unknown_tenant(db):
    with pytest.raises(CommandError, match="Unknown tenant"):
        run("dev_token", "--tenant", "nope", "--username", "alice")


def test_bootstrap_dev_is_idempotent(db, settings):
    settings.DEBUG = True
    run("bootstrap_dev")
    run("bootstrap_dev")
    tenant = Tenant.objects.get(tenant_id="dev")
    assert tenant.pod_domain == "localhost"
    assert tenant.keys.count() == 1
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_bootstrap_dev_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        run("bootstrap_dev")


def test_admin_lists_tenants_and_shows_fingerprints_not_private_keys(client, tenant, admin_user):
    client.force_login(admin_user)
    listing = client.get("/admin/tenancy/tenant/")
    assert listing.status_code == 200 and b"dev" in listing.content
    page = client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/")
    assert page.status_code == 200
    key = tenant.keys.get()
    assert key.fingerprint.encode() in page.content
    assert b"PRIVATE KEY" not in page.content
    assert key.private_key_encrypted.encode() not in page.content
    keys_page = client.get("/admin/tenancy/tenantkey/")
    assert keys_page.status_code == 200 and key.fingerprint.encode() in keys_page.content


def test_admin_login_page_has_no_oidc_button_without_config(client, db):
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert b"OIDC" not in page.content


def test_staff_oidc_backend_matches_existing_staff_by_username_only(db, settings):
    from tenancy.identity.admin_login import StaffOIDCBackend

    settings.OIDC_USERNAME_CLAIM = "preferred_username"
    User = get_user_model()
    staff = User.objects.create_user("ada", "ada@uni.example", is_staff=True)
    User.objects.create_user("eve", "ada@uni.example")  # same email, not staff
    backend = StaffOIDCBackend.__new__(StaffOIDCBackend)  # no OIDC endpoints needed for matching
    assert list(backend.filter_users_by_claims({"preferred_username": "ada"})) == [staff]
    assert not backend.filter_users_by_claims({"preferred_username": "eve"}).exists()
    assert not backend.filter_users_by_claims({"email": "ada@uni.example"}).exists()
