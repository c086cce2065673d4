"""OIDC bearer tokens from a real OIDC provider process (oidc-provider-mock), verified locally;
and, against a small provider of our own that counts and can stall its answers, the cost a
stranger's tokens may impose (security findings 3 and 4)."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    token = jwt.encode({"iss": issuer, "exp": 9999999999, "aud": CLIENT_ID, "preferred_username": "x"}, private_pem,
                       algorithm="RS256")
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


# --- The audience (security finding 4) -------------------------------------------------------------

def test_tenant_with_an_issuer_but_no_audience_refuses_bearer_tokens(whoami, oidc_tenant, provider):
    """A blank audience used to accept tokens issued to any client of a shared provider."""
    oidc_tenant.oidc_audience = ""
    oidc_tenant.save()
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {obtain_id_token(provider)}")
    assert response.status_code == 401
    assert "no OIDC audience configured" in response.json()["message"]
    oidc_tenant.oidc_accept_any_audience = True  # the explicit opt-out
    oidc_tenant.save()
    assert whoami(HTTP_AUTHORIZATION=f"Bearer {obtain_id_token(provider)}").status_code == 200


def test_an_issuer_needs_an_audience_or_the_explicit_opt_out(make_tenant):
    from django.core.exceptions import ValidationError

    tenant = make_tenant("uni")
    tenant.oidc_issuer = "https://idp.example.org"
    with pytest.raises(ValidationError) as refused:
        tenant.full_clean()
    assert "oidc_audience" in refused.value.message_dict
    tenant.oidc_accept_any_audience = True
    tenant.full_clean()


# --- What a stranger's tokens cost (security finding 3) ------------------------------------------

class CountingProvider:
    """An OIDC provider on a real socket: discovery and a JWKS with one key (kid ``k1``).

    ``requests`` counts what was asked; ``stall`` (an Event) makes the JWKS answer trickle one
    byte at a time until it is set, as a slow or hostile provider would.
    """

    def __init__(self):
        self.private_pem, public_pem = generate_rsa_keypair()
        from cryptography.hazmat.primitives import serialization

        public = serialization.load_pem_public_key(public_pem.encode())
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        self.requests = []
        self.stall = None
        self.finished = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                import json

                provider.requests.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    body = json.dumps({"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks"}).encode()
                else:
                    body = json.dumps(provider.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path == "/jwks" and provider.stall is not None:
                    for i in range(len(body)):
                        if provider.stall.wait(0.05):
                            self.wfile.write(body[i:])
                            break
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                    provider.finished.set()
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, kid="k1", signed_with=None, **claims):
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "exp": int(time.time()) + 300,
                  "preferred_username": "ada", **claims}
        return jwt.encode(claims, signed_with or self.private_pem, algorithm="RS256", headers={"kid": kid})

    def jwks_fetches(self):
        return sum(1 for path in self.requests if path == "/jwks")


@pytest.fixture
def counting(make_tenant):
    provider = CountingProvider()
    _configure(make_tenant("uni"), provider.issuer)
    yield provider
    if provider.stall is not None:
        provider.stall.set()
    provider.server.shutdown()


def test_unknown_key_ids_refetch_at_most_once_per_interval(whoami, counting, settings):
    settings.PODS_OIDC_REFETCH_SECONDS = 3600
    assert whoami(HTTP_AUTHORIZATION=f"Bearer {counting.token()}").status_code == 200
    assert counting.jwks_fetches() == 1
    junk_key, _ = generate_rsa_keypair()
    for i in range(10):
        response = whoami(HTTP_AUTHORIZATION=f"Bearer {counting.token(kid=f'random{i}', signed_with=junk_key)}")
        assert response.status_code == 401
        assert "signing key" in response.json()["message"]
    assert counting.jwks_fetches() <= 2, counting.requests  # the first fetch, at most one refetch
    # Tokens with the known key keep working all along.
    assert whoami(HTTP_AUTHORIZATION=f"Bearer {counting.token()}").status_code == 200


def test_the_fetch_turn_is_shared_across_processes(whoami, counting, settings):
    """Another web worker (a fresh process: empty local cache) uses the set the first one shared."""
    from tenancy.identity import jwks

    settings.PODS_OIDC_REFETCH_SECONDS = 3600
    assert whoami(HTTP_AUTHORIZATION=f"Bearer {counting.token()}").status_code == 200
    jwks._local.clear()  # what a second process starts with
    jwks._local_turns.clear()
    assert whoami(HTTP_AUTHORIZATION=f"Bearer {counting.token()}").status_code == 200
    junk_key, _ = generate_rsa_keypair()
    assert whoami(HTTP_AUTHORIZATION=f"Bearer {counting.token(kid='new', signed_with=junk_key)}").status_code == 401
    assert counting.jwks_fetches() == 1, counting.requests


def test_expired_or_foreign_audience_tokens_fetch_nothing(whoami, counting):
    junk_key, _ = generate_rsa_keypair()
    for token in (counting.token(kid="x", signed_with=junk_key, exp=int(time.time()) - 3600),
                  counting.token(kid="y", signed_with=junk_key, aud="another-client")):
        assert whoami(HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert counting.requests == []


def test_a_stalling_provider_holds_a_request_no_longer_than_the_timeout(whoami, counting, settings):
    """The provider trickles its key set a byte at a time (each read within the socket timeout):
    the request is answered (401) while the provider is still sending."""
    settings.PODS_OIDC_HTTP_TIMEOUT = 0.5
    counting.stall = threading.Event()
    response = whoami(HTTP_AUTHORIZATION=f"Bearer {counting.token()}")
    still_sending = not counting.finished.is_set()
    counting.stall.set()
    assert response.status_code == 401
    assert "could not be reached" in response.json()["message"]
    assert still_sending, "the request waited for the whole answer"
