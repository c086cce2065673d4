"""OIDC bearer tokens from a real OIDC provider process (oidc-provider-mock), verified locally."""
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from oidc_provider_mock import User, run_server_in_thread

from tenancy.identity.keys import generate_rsa_keypair
from tenancy.identity.oidc import forget_jwks_clients

CLIENT_ID = "pods-service"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def provider():
    users = [User(sub="u-123", claims={"email": "ada@uni.example", "preferred_username": "ada"})]
    with run_server_in_thread(port=0, user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(autouse=True)
def _fresh_jwks_cache():
    forget_jwks_clients()
    yield
    forget_jwks_clients()


def obtain_id_token(issuer, sub="u-123"):
    """Run the authorization-code flow a browser would, and return the signed ID token."""
    session = requests.Session()
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
              "scope": "openid email profile"}
    response = session.post(f"{issuer}/oauth2/authorize", params=params, data={"sub": sub},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    code = parse_qs(urlparse(response.headers["Location"]).query)["code"][0]
    tokens = session.post(f"{issuer}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID, "client_secret": "anything"}, timeout=10).json()
    return tokens["id_token"]


@pytest.fixture
def oidc_tenant(make_tenant, provider):
    return _configure(make_tenant("uni"), provider)


def _configure(tenant, issuer):
    tenant.oidc_issuer = issuer
    tenant.oidc_audience = CLIENT_ID
    tenant.oidc_username_claim = "preferred_username"
    tenant.save()
    return tenant


def test_provider_token_is_accepted_and_mapped_to_tenant(whoami, oidc_tenant, provider):
    token = obtain_id_token(provider)
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response.json()["result"]["tenant"] == "uni"
    assert response.json()["result"]["username"] == "ada"
    assert response.json()["result"]["auth_method"] == "oidc"


def test_wrong_audience_is_401(whoami, oidc_tenant, provider):
    oidc_tenant.oidc_audience = "some-other-api"
    oidc_tenant.save()
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {obtain_id_token(provider)}")
    assert response.status_code == 401
    assert "audience" in response.json()["message"]


def test_issuer_of_no_tenant_is_401(whoami, make_tenant, provider):
    make_tenant("uni")  # no issuer configured
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {obtain_id_token(provider)}")
    assert response.status_code == 401
    assert "Unknown tenant" in response.json()["message"]


def test_token_signed_by_another_key_with_provider_kid_is_401(whoami, oidc_tenant, provider):
    real = obtain_id_token(provider)
    header, claims = jwt.get_unverified_header(real), jwt.decode(real, options={"verify_signature": False})
    private_pem, _ = generate_rsa_keypair()
    forged = jwt.encode(claims, private_pem, algorithm="RS256",
                        headers={"kid": header["kid"]} if header.get("kid") else None)
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401
    assert "signature" in response.json()["message"]


def test_unknown_kid_is_401(whoami, oidc_tenant, provider):
    claims = jwt.decode(obtain_id_token(provider), options={"verify_signature": False})
    private_pem, _ = generate_rsa_keypair()
    forged = jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": "not-published"})
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401
    assert "signing key" in response.json()["message"]


def test_missing_username_claim_is_401(whoami, oidc_tenant, provider):
    oidc_tenant.oidc_username_claim = "upn"
    oidc_tenant.save()
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {obtain_id_token(provider)}")
    assert response.status_code == 401
    assert "upn" in response.json()["message"]


def test_unreachable_provider_is_401_not_500(whoami, make_tenant, settings):
    settings.PODS_OIDC_HTTP_TIMEOUT = 0.5
    issuer = "http://127.0.0.1:9"  # discard port: nothing answers
    _configure(make_tenant("gone"), issuer)
    private_pem, _ = generate_rsa_keypair()
    token = jwt.encode({"iss": issuer, "exp": 9999999999, "preferred_username": "x"}, private_pem, algorithm="RS256")
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert "could not be reached" in response.json()["message"]


@pytest.mark.parametrize("value", ["Bearer", "Bearer a b", "Bearer opaque-token"])
def test_malformed_bearer_is_401(whoami, tenant, value):
    response = whoami(HTTP_AUTHORIZATION=value)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_basic_auth_is_not_credentials(whoami, tenant):
    response = whoami(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert "credentials" in response.json()["message"]
