"""X-Tapis-Token: every accepted and refused path, always 401 (never 500) with a clear message."""
import base64
import json
import time

import jwt
import pytest

from tenancy.identity.keys import generate_rsa_keypair, sign_rs256, tapis_claims
from tenancy.services import tenant_key_add


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_401(response, fragment):
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "error"
    assert fragment.lower() in body["message"].lower(), body["message"]
    assert "Traceback" not in body["message"]
    return body


def test_valid_token_yields_principal(whoami, tenant, token_for):
    response = whoami(HTTP_X_TAPIS_TOKEN=token_for("alice"))
    assert response.status_code == 200
    assert response.json()["result"] == {"tenant": "dev", "username": "alice", "is_tenant_admin": False,
                                         "admin_mode": False, "auth_method": "tapis"}


def test_missing_token_is_401(whoami, tenant):
    response = whoami()
    assert_401(response, "credentials")
    assert response["WWW-Authenticate"] == "X-Tapis-Token"


def test_empty_token_is_401(whoami, tenant):
    assert_401(whoami(HTTP_X_TAPIS_TOKEN="  "), "empty")


def test_garbage_token_is_401(whoami, tenant):
    assert_401(whoami(HTTP_X_TAPIS_TOKEN="not-a-jwt"), "malformed")


def test_expired_token_is_401(whoami, tenant, token_for):
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token_for("alice", ttl=-120)), "expired")


def test_token_without_exp_is_401(whoami, tenant):
    key = tenant.keys.first()
    claims = tapis_claims(tenant_id="dev", username="alice", ttl=60)
    del claims["exp"]
    token = sign_rs256(claims, key.private_key_pem())
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "exp")


def test_token_signed_by_another_key_is_401(whoami, tenant):
    private_pem, _ = generate_rsa_keypair()
    token = sign_rs256(tapis_claims(tenant_id="dev", username="alice", ttl=60), private_pem)
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "signature")


def test_alg_none_is_401(whoami, tenant):
    claims = tapis_claims(tenant_id="dev", username="alice", ttl=60)
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "'none'")


def test_hs256_with_public_key_as_secret_is_401(whoami, tenant):
    public_pem = tenant.keys.first().public_key_pem
    claims = tapis_claims(tenant_id="dev", username="alice", ttl=60)
    # PyJWT refuses to HMAC with a PEM key, so forge the token by hand, as an attacker would.
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    sig = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "HS256")


def test_unknown_tenant_is_401(whoami, tenant):
    key = tenant.keys.first()
    token = sign_rs256(tapis_claims(tenant_id="nosuch", username="alice", ttl=60), key.private_key_pem())
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "unknown tenant")


def test_inactive_tenant_is_401(whoami, tenant, token_for):
    token = token_for("alice")
    tenant.is_active = False
    tenant.save()
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "inactive")


def test_token_of_one_tenant_cannot_claim_another(whoami, tenant, other_tenant):
    # Signed with dev's key but claiming tenant "other": other's keys do not verify it.
    key = tenant.keys.first()
    token = sign_rs256(tapis_claims(tenant_id="other", username="alice", ttl=60), key.private_key_pem())
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "signature")


def test_missing_username_claim_is_401(whoami, tenant):
    claims = tapis_claims(tenant_id="dev", username="alice", ttl=60)
    del claims["tapis/username"]
    token = sign_rs256(claims, tenant.keys.first().private_key_pem())
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "tapis/username")


def test_key_rotation_kid_selects_key(whoami, tenant):
    private_pem, public_pem = generate_rsa_keypair()
    tenant_key_add(tenant=tenant, public_key_pem=public_pem, kid="2026-11")
    token = sign_rs256(tapis_claims(tenant_id="dev", username="alice", ttl=60), private_pem, kid="2026-11")
    assert whoami(HTTP_X_TAPIS_TOKEN=token).status_code == 200
    # The old key keeps working during the rotation (no kid: every active key is tried).
    old = sign_rs256(tapis_claims(tenant_id="dev", username="bob", ttl=60), tenant.keys.get(kid="").private_key_pem())
    assert whoami(HTTP_X_TAPIS_TOKEN=old).json()["result"]["username"] == "bob"


def test_inactive_key_no_longer_verifies(whoami, tenant, token_for):
    token = token_for("alice")
    tenant.keys.update(is_active=False)
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "no active key")


def _service_token(tenant):
    claims = tapis_claims(tenant_id=tenant.tenant_id, username="pods", ttl=60, account_type="service")
    return sign_rs256(claims, tenant.keys.first().private_key_pem())


def test_service_token_acts_on_behalf_of_user(whoami, tenant, other_tenant):
    tenant.may_issue_service_tokens, tenant.service_token_tenants = True, ["other"]
    tenant.save()
    response = whoami(HTTP_X_TAPIS_TOKEN=_service_token(tenant), HTTP_X_TAPIS_USER="carol",
                      HTTP_X_TAPIS_TENANT="other")
    assert response.status_code == 200
    assert response.json()["result"]["username"] == "carol"
    assert response.json()["result"]["tenant"] == "other"
    assert response.json()["result"]["auth_method"] == "tapis-service"


def test_service_token_of_a_tenant_not_marked_as_issuer_is_refused(whoami, tenant, other_tenant):
    """Security finding 2: any tenant's key could sign a service token acting as anyone anywhere."""
    token = _service_token(other_tenant)
    for user, target in (("boss", "dev"), ("carol", "other")):
        response = whoami(HTTP_X_TAPIS_TOKEN=token, HTTP_X_TAPIS_USER=user, HTTP_X_TAPIS_TENANT=target)
        assert response.status_code == 403, response.content
        assert "may not issue service tokens" in response.json()["message"]
    # Nor with admin mode (boss is dev's tenant admin).
    response = whoami(HTTP_X_TAPIS_TOKEN=token, HTTP_X_TAPIS_USER="boss", HTTP_X_TAPIS_TENANT="dev",
                      HTTP_X_PODS_ADMIN="true")
    assert response.status_code == 403


def test_service_token_acts_only_for_the_tenants_its_issuer_may(whoami, tenant, other_tenant, make_tenant):
    make_tenant("third", site_id="elsewhere")
    other_tenant.may_issue_service_tokens = True
    other_tenant.save()
    token = _service_token(other_tenant)
    ok = whoami(HTTP_X_TAPIS_TOKEN=token, HTTP_X_TAPIS_USER="carol", HTTP_X_TAPIS_TENANT="other")
    assert ok.status_code == 200  # its own users
    refused = whoami(HTTP_X_TAPIS_TOKEN=token, HTTP_X_TAPIS_USER="boss", HTTP_X_TAPIS_TENANT="dev")
    assert refused.status_code == 403 and "may not act for tenant 'dev'" in refused.json()["message"]
    other_tenant.service_token_tenants = ["*"]  # every tenant of its site (local), not of others
    other_tenant.save()
    assert whoami(HTTP_X_TAPIS_TOKEN=token, HTTP_X_TAPIS_USER="boss", HTTP_X_TAPIS_TENANT="dev").status_code == 200
    assert whoami(HTTP_X_TAPIS_TOKEN=token, HTTP_X_TAPIS_USER="x", HTTP_X_TAPIS_TENANT="third").status_code == 403


@pytest.mark.parametrize("user", ["*", "", " ", "a b", "alice\x00", "-x", "a" * 151, "bob;rm"])
def test_service_token_user_must_be_a_valid_username(whoami, tenant, user):
    tenant.may_issue_service_tokens = True
    tenant.save()
    response = whoami(HTTP_X_TAPIS_TOKEN=_service_token(tenant), HTTP_X_TAPIS_USER=user, HTTP_X_TAPIS_TENANT="dev")
    assert response.status_code == 401, (user, response.content)
    assert "X-Tapis-User" in response.json()["message"]


def test_user_token_naming_the_wildcard_user_is_401(whoami, tenant):
    claims = tapis_claims(tenant_id="dev", username="*", ttl=60)
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=sign_rs256(claims, tenant.keys.first().private_key_pem())),
               "not a valid username")


def test_service_token_without_obo_headers_is_401(whoami, tenant):
    claims = tapis_claims(tenant_id="dev", username="pods", ttl=60, account_type="service")
    token = sign_rs256(claims, tenant.keys.first().private_key_pem())
    assert_401(whoami(HTTP_X_TAPIS_TOKEN=token), "X-Tapis-User")


def test_user_token_with_obo_headers_is_401(whoami, tenant, token_for):
    response = whoami(HTTP_X_TAPIS_TOKEN=token_for("alice"), HTTP_X_TAPIS_USER="boss", HTTP_X_TAPIS_TENANT="dev")
    assert_401(response, "only accepted with service tokens")


def test_admin_mode_for_tenant_admin(whoami, tenant, token_for):
    response = whoami(HTTP_X_TAPIS_TOKEN=token_for("boss"), HTTP_X_PODS_ADMIN="true")
    assert response.json()["result"]["admin_mode"] is True
    assert response.json()["result"]["is_tenant_admin"] is True


def test_admin_mode_refused_for_others_with_403(whoami, tenant, token_for):
    response = whoami(HTTP_X_TAPIS_TOKEN=token_for("alice"), HTTP_X_PODS_ADMIN="true")
    assert response.status_code == 403
    assert "tenant admins" in response.json()["message"]


@pytest.mark.live
def test_tapipy_accepts_dev_token_against_live_server(live_server, transactional_db, make_tenant):
    from tapipy.tapis import Tapis

    from tenancy.services import dev_token

    tenant = make_tenant("dev")
    t = Tapis(base_url=live_server.url, tenant_id="dev", access_token=dev_token(tenant=tenant, username="alice"))
    # healthcheck needs no token; a request that needs one goes through the same headers.
    assert t.pods.healthcheck() is not None
    import requests

    token = t.access_token.access_token
    r = requests.get(f"{live_server.url}/v3/pods/whoami", headers={"X-Tapis-Token": token}, timeout=10)
    assert r.status_code == 200 and r.json()["result"]["username"] == "alice"


@pytest.mark.parametrize("header", ["HTTP_X_TAPIS_TOKEN"])
def test_token_with_wrong_segment_count_is_401(whoami, tenant, header):
    assert_401(whoami(**{header: "a.b"}), "malformed")


def test_leeway_allows_small_clock_skew(whoami, tenant):
    claims = tapis_claims(tenant_id="dev", username="alice", ttl=60)
    claims["exp"] = int(time.time()) - 5  # within the 30 s leeway
    token = jwt.encode(claims, tenant.keys.first().private_key_pem(), algorithm="RS256")
    assert whoami(HTTP_X_TAPIS_TOKEN=token).status_code == 200
