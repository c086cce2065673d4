"""The browser login to a tapis_auth pod, over HTTP end to end: Traefik's forwardAuth request,
the redirect to a real OIDC provider (oidc-provider-mock, nonce required, wrapped so it also
enforces PKCE S256 as RFC 7636 says), the provider's redirect back to the pod host's callback,
the code exchange, the session cookie, and forwardAuth letting the browser through. Requests
reach the live server the way Traefik sends them (X-Forwarded-Host, -Uri, -Method)."""
import base64
import hashlib
import io
import threading
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlparse

import oidc_provider_mock
import pytest
import requests
import werkzeug.serving
from oidc_provider_mock import User

from pods.choices import PodStatus
from pods.models import Pod
from tenancy.identity.oidc import forget_jwks_clients

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_ID = "pods-service"
HOST = "web.pods.localhost"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class PKCEEnforcer:
    """WSGI wrapper: remembers each code's ``code_challenge`` and refuses a token request whose
    ``code_verifier`` does not hash to it (the mock itself ignores PKCE)."""

    def __init__(self, app):
        self.app, self.challenges, self.checked = app, {}, []

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/oauth2/authorize" and method == "POST":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            challenge = (query.get("code_challenge") or [None])[0] \
                if (query.get("code_challenge_method") or [""])[0] == "S256" else None

            def remember(status, headers, exc_info=None):
                for name, value in headers:
                    if name.lower() == "location":
                        code = (parse_qs(urlparse(value).query).get("code") or [None])[0]
                        if code:
                            self.challenges[code] = challenge
                return start_response(status, headers, exc_info)
            return self.app(environ, remember)
        if path == "/oauth2/token" and method == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            form = parse_qs(body.decode())
            code, verifier = (form.get("code") or [None])[0], (form.get("code_verifier") or [None])[0]
            challenge = self.challenges.get(code)
            if form.get("grant_type") == ["authorization_code"]:
                ok = bool(challenge and verifier and s256(verifier) == challenge)
                self.checked.append(ok)
                if not ok:
                    start_response("400 Bad Request", [("Content-Type", "application/json")])
                    return [b'{"error": "invalid_grant", "error_description": "PKCE verification failed"}']
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def provider():
    app = PKCEEnforcer(oidc_provider_mock.app(require_nonce=True, user_claims=[
        User(sub="alice-sub", claims={"preferred_username": "alice"}),
        User(sub="bob-sub", claims={"preferred_username": "bob"})]))
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()


@pytest.fixture
def pod(tenant, provider, make_pod, settings):
    settings.PODS_POD_AUTH_CLIENT_SECRET = "client-secret-at-the-provider"
    forget_jwks_clients()
    tenant.oidc_issuer, tenant.oidc_audience, tenant.oidc_username_claim = provider[0], CLIENT_ID, "preferred_username"
    tenant.save()
    made = make_pod("web", owner="alice", networking={"default": {"protocol": "http", "port": 5000,
                                                                  "tapis_auth": True,
                                                                  "tapis_auth_response_headers": {
                                                                      "X-Pod-User": "<<tapisusername>>"}}})
    Pod.objects.filter(pk=made.pk).update(status=PodStatus.AVAILABLE)
    yield made
    forget_jwks_clients()


def forward_auth(live_server, cookies=None, uri="/lab/tree?x=1", host=HOST, accept="text/html"):
    """What Traefik sends to the forwardAuth address for a browser's request to the pod."""
    return requests.get(f"{live_server.url}/v3/pods/web/auth?tenant=dev", allow_redirects=False, timeout=10,
                        headers={"X-Forwarded-Host": host, "X-Forwarded-Uri": uri, "X-Forwarded-Proto": "https",
                                 "X-Forwarded-Method": "GET", "Accept": accept},
                        cookies=cookies or {})


def set_cookie(response, name):
    jar = SimpleCookie()
    for header in response.raw.headers.getlist("Set-Cookie"):
        jar.load(header)
    return jar.get(name)


def sign_in(provider_url, location, sub):
    """The user picks ``sub`` on the provider's login form; returns the redirect back."""
    authorize = urlparse(location)
    assert f"{authorize.scheme}://{authorize.netloc}" == provider_url
    response = requests.post(f"{provider_url}{authorize.path}?{authorize.query}", data={"sub": sub},
                             allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return urlparse(response.headers["Location"])


def callback(live_server, back, login_cookie):
    """The browser following the provider's redirect to https://<pod host>/…/auth/callback (Traefik
    routes that path of the pod host to this service)."""
    assert back.scheme == "https" and back.netloc == HOST and back.path == "/v3/pods/web/auth/callback"
    return requests.get(f"{live_server.url}{back.path}?{back.query}", allow_redirects=False, timeout=10,
                        headers={"X-Forwarded-Host": HOST, "X-Forwarded-Proto": "https", "Accept": "text/html"},
                        cookies={"pods_login": login_cookie})


def start_login(live_server):
    response = forward_auth(live_server)
    assert response.status_code == 302, response.text
    login = set_cookie(response, "pods_login")
    return response.headers["Location"], login


@pytest.mark.live
def test_the_full_round_trip_lets_the_browser_in(live_server, provider, pod):
    provider_url, enforcer = provider
    location, login = start_login(live_server)
    query = parse_qs(urlparse(location).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and query["state"] and query["nonce"]
    assert query["redirect_uri"] == [f"https://{HOST}/v3/pods/web/auth/callback"]
    assert login["secure"] and login["httponly"] and login["samesite"] == "Lax"
    assert login["path"] == "/v3/pods/web/auth/" and not login["domain"]

    back = sign_in(provider_url, location, "alice-sub")
    assert parse_qs(back.query)["state"] == query["state"]
    done = callback(live_server, back, login.value)
    assert done.status_code == 302, done.text
    assert done.headers["Location"] == f"https://{HOST}/lab/tree?x=1"
    assert enforcer.checked[-1] is True  # the exchange carried the right code_verifier
    session = set_cookie(done, "pods_session")
    assert session.value and not session["domain"]  # host-only: the pod's host and nothing else
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"

    passed = forward_auth(live_server, cookies={"pods_session": session.value})
    assert passed.status_code == 200, passed.text
    assert passed.json()["result"]["username"] == "alice"
    assert passed.headers["X-Pod-User"] == "alice"
    # The cookie opens this pod's host only, and only while the user may enter.
    assert forward_auth(live_server, cookies={"pods_session": session.value},
                        host="other.pods.localhost").status_code in (403, 404)
    middle = len(session.value) // 2
    edited = session.value[:middle] + ("A" if session.value[middle] != "A" else "B") + session.value[middle + 1:]
    assert forward_auth(live_server, cookies={"pods_session": edited}).status_code == 302
    Pod.objects.get(pk=pod.pk).permissions.filter(username="alice").delete()
    assert forward_auth(live_server, cookies={"pods_session": session.value}).status_code == 403

    out = requests.get(f"{live_server.url}/v3/pods/web/auth/logout", headers={"X-Forwarded-Host": HOST},
                       timeout=10, cookies={"pods_session": session.value})
    assert out.status_code == 200 and "Signed out" in out.text
    assert set_cookie(out, "pods_session").value == ""


@pytest.mark.live
def test_a_forged_state_is_refused(live_server, provider, pod):
    location, login = start_login(live_server)
    back = sign_in(provider[0], location, "alice-sub")
    forged = back._replace(query=urlencode({**{k: v[0] for k, v in parse_qs(back.query).items()}, "state": "forged"}))
    response = callback(live_server, forged, login.value)
    assert response.status_code == 403 and "state" in response.text
    assert set_cookie(response, "pods_session") is None


@pytest.mark.live
def test_an_id_token_for_another_nonce_is_refused(live_server, provider, pod):
    """The login cookie (state and verifier intact) expects another nonce than the ID token's."""
    import json

    from tenancy import crypto

    location, login = start_login(live_server)
    payload = json.loads(crypto.decrypt(login.value))
    payload["nonce"] = "a-nonce-the-provider-never-saw"
    back = sign_in(provider[0], location, "alice-sub")
    response = callback(live_server, back, crypto.encrypt(json.dumps(payload)))
    assert provider[1].checked[-1] is True  # the exchange itself succeeded (PKCE fine)
    assert response.status_code == 403 and "nonce" in response.text
    assert set_cookie(response, "pods_session") is None


@pytest.mark.live
def test_a_code_from_another_login_is_refused(live_server, provider, pod):
    location_a, login_a = start_login(live_server)
    location_b, _ = start_login(live_server)
    state_a = parse_qs(urlparse(location_a).query)["state"][0]
    back_b = sign_in(provider[0], location_b, "alice-sub")
    spliced = back_b._replace(query=urlencode({"code": parse_qs(back_b.query)["code"][0], "state": state_a}))
    response = callback(live_server, spliced, login_a.value)
    assert response.status_code == 403 and provider[1].checked[-1] is False  # PKCE: wrong verifier


@pytest.mark.live
def test_a_user_not_allowed_sees_the_forbidden_page(live_server, provider, pod):
    location, login = start_login(live_server)
    back = sign_in(provider[0], location, "bob-sub")
    response = callback(live_server, back, login.value)
    assert response.status_code == 403 and "You may not open this pod" in response.text
    assert set_cookie(response, "pods_session") is None


@pytest.mark.live
def test_an_api_client_without_a_token_still_gets_401(live_server, pod):
    assert forward_auth(live_server, accept="application/json").status_code == 401


def test_wrong_verifier_is_refused_by_the_provider_wrapper(provider):
    """The harness's PKCE check is real: a token request with the wrong verifier fails."""
    provider_url, enforcer = provider
    verifier = "v" * 50
    params = {"client_id": CLIENT_ID, "redirect_uri": "https://x.example/cb", "response_type": "code",
              "scope": "openid", "nonce": "n1", "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    back = requests.post(f"{provider_url}/oauth2/authorize?{urlencode(params)}", data={"sub": "alice-sub"},
                         allow_redirects=False, timeout=10)
    code = parse_qs(urlparse(back.headers["Location"]).query)["code"][0]
    refused = requests.post(f"{provider_url}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "https://x.example/cb",
        "client_id": CLIENT_ID, "code_verifier": "w" * 50}, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
