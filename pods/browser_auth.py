"""Browser access to ``tapis_auth`` pods: an OIDC authorization-code login with PKCE through the
pod's tenant's provider, ending in a session cookie for the pod's own host.

The flow (Traefik's forwardAuth calls ``pod_auth`` for every request to such a pod):

1. A browser without a session: ``pod_auth`` answers 302 to the provider's authorization
   endpoint (``client_id`` = the tenant's OIDC audience, ``scope=openid``, a random ``state`` and
   ``nonce``, an S256 ``code_challenge``) and sets a short-lived, encrypted *login* cookie on
   the pod host holding state, nonce, code verifier and the page asked for.
2. The provider sends the browser back to ``https://<pod host>/v3/pods/<pod_id_net>/auth/callback``
   (``/traefik-config`` routes that prefix of the pod host to this service, without forwardAuth).
   The callback checks ``state`` against the login cookie, exchanges the code (with the code
   verifier) at the token endpoint, verifies the ID token (signature from the provider's JWKS,
   issuer, audience, expiry, ``nonce``), applies ``tapis_auth_allowed_users``, then sets the
   *session* cookie: host-only (no ``Domain``), ``Secure``, ``HttpOnly``, ``SameSite=Lax``,
   encrypted, bound to the pod (its uid), its networking key and its host, and expiring.
3. Later requests carry the session cookie to forwardAuth, which lets them through while the
   user is still allowed. ``/auth/logout`` deletes it.

Nothing is kept server-side: both cookies are authenticated encryption (:mod:`tenancy.crypto`),
so a forged or edited cookie is rejected, and a cookie of one pod never opens another.
"""
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings

from core.errors import Forbidden, NotFound, Unavailable
from pods.models import Pod
from tenancy import crypto
from tenancy.identity import jwks

LOGIN_COOKIE = "pods_login"
SESSION_COOKIE = "pods_session"
LOGIN_SECONDS = 600


def pod_id_net(pod: Pod, key: str) -> str:
    return pod.pod_id if key == "default" else f"{pod.pod_id}-{key}"


def callback_url(pod: Pod, key: str) -> str:
    host = (pod.networking or {}).get(key, {}).get("url", "")
    return f"https://{host}/v3/pods/{pod_id_net(pod, key)}/auth/callback"


def _seal(payload: dict) -> str:
    return crypto.encrypt(json.dumps(payload, separators=(",", ":")))


def _open(value: str | None) -> dict | None:
    if not value:
        return None
    try:
        payload = json.loads(crypto.decrypt(value))
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < time.time():
        return None
    return payload


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _provider(issuer: str) -> dict:
    """The provider's discovery document (authorization and token endpoints)."""
    try:
        response = requests.get(issuer.rstrip("/") + "/.well-known/openid-configuration",
                                timeout=settings.PODS_OIDC_HTTP_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise Unavailable(f"The tenant's OIDC provider did not answer: {exc}") from None
    if not isinstance(document, dict) or not document.get("authorization_endpoint") \
            or not document.get("token_endpoint"):
        raise Unavailable("The tenant's OIDC provider's discovery document names no authorization/token endpoint.")
    return document


def _client_id(tenant) -> str:
    if not tenant.oidc_issuer or not tenant.oidc_audience:
        raise Forbidden(f"Tenant '{tenant.tenant_id}' has no OIDC provider (issuer and audience) for browser logins.")
    return tenant.oidc_audience


def safe_return_path(value: str | None, default: str) -> str:
    """A path on the pod host (never ``//elsewhere`` or a full URL)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value \
            and len(value) <= 2048 and all(32 < ord(ch) < 127 for ch in value):
        return value
    return default if default.startswith("/") else "/"


def login_redirect(pod: Pod, key: str, return_path: str) -> tuple[str, str]:
    """(the provider's authorization URL, the login cookie value)."""
    tenant = pod.tenant
    client_id = _client_id(tenant)
    document = _provider(tenant.oidc_issuer)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": callback_url(pod, key),
             "scope": "openid profile email", "state": state, "nonce": nonce,
             "code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    cookie = _seal({"state": state, "nonce": nonce, "verifier": verifier, "pod": str(pod.uid), "key": key,
                    "return": return_path, "exp": time.time() + LOGIN_SECONDS})
    return f"{document['authorization_endpoint']}?{urlencode(query)}", cookie


@dataclass
class Login:
    username: str
    return_path: str
    session_cookie: str
    max_age: int


def finish_login(pod: Pod, key: str, *, code: str, state: str, login_cookie: str | None) -> Login:
    """Check ``state``, exchange ``code`` (PKCE), verify the ID token and its ``nonce``."""
    login = _open(login_cookie)
    if login is None:
        raise Forbidden("The login expired or was started in another browser; open the pod's address again.")
    if not state or not secrets.compare_digest(str(login.get("state")), state):
        raise Forbidden("The login's state does not match (a forged or replayed callback).")
    if login.get("pod") != str(pod.uid) or login.get("key") != key:
        raise Forbidden("The login was started for another pod.")
    tenant = pod.tenant
    client_id = _client_id(tenant)
    document = _provider(tenant.oidc_issuer)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url(pod, key),
            "client_id": client_id, "code_verifier": login["verifier"]}
    if settings.PODS_POD_AUTH_CLIENT_SECRET:
        data["client_secret"] = settings.PODS_POD_AUTH_CLIENT_SECRET
    try:
        response = requests.post(document["token_endpoint"], data=data, timeout=settings.PODS_OIDC_HTTP_TIMEOUT,
                                 headers={"Accept": "application/json"})
        tokens = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise Unavailable(f"The tenant's OIDC provider did not answer the code exchange: {exc}") from None
    if response.status_code != 200 or not isinstance(tokens, dict) or not tokens.get("id_token"):
        error = tokens.get("error") if isinstance(tokens, dict) else ""
        raise Forbidden(f"The OIDC provider refused the login code ({error or response.status_code}).")
    claims = verify_id_token(tenant, tokens["id_token"], client_id)
    if not secrets.compare_digest(str(claims.get("nonce", "")), str(login.get("nonce"))):
        raise Forbidden("The ID token's nonce does not match the login's (a replayed token).")
    username = claims.get(tenant.oidc_username_claim)
    if not isinstance(username, str) or not username:
        raise Forbidden(f"The ID token lacks the username claim {tenant.oidc_username_claim!r}.")
    max_age = int(settings.PODS_POD_AUTH_SESSION_SECONDS)
    session = _seal({"tenant": tenant.tenant_id, "user": username, "pod": str(pod.uid), "key": key,
                     "host": (pod.networking or {}).get(key, {}).get("url", ""), "exp": time.time() + max_age})
    return Login(username, login.get("return") or "/", session, max_age)


def verify_id_token(tenant, token: str, client_id: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Forbidden(f"The ID token is malformed: {exc}") from None
    if header.get("alg") != "RS256":
        raise Forbidden("The ID token must be signed with RS256.")
    last = None
    for key in [k.key for k in jwks.signing_keys(tenant.oidc_issuer, header.get("kid") or None)]:
        try:
            return jwt.decode(token, key, algorithms=["RS256"], audience=client_id, issuer=tenant.oidc_issuer,
                              leeway=settings.PODS_JWT_LEEWAY, options={"require": ["exp", "iss", "aud"]})
        except jwt.InvalidSignatureError as exc:
            last = exc
        except jwt.PyJWTError as exc:
            raise Forbidden(f"The ID token was refused: {exc}") from None
    raise Forbidden(f"The ID token's signature does not verify: {last}")


def session_user(pod: Pod, key: str, cookie: str | None, host: str | None) -> str | None:
    """The username a session cookie holds for this pod, entry and host; None if it holds none."""
    session = _open(cookie)
    if session is None or session.get("pod") != str(pod.uid) or session.get("key") != key \
            or session.get("tenant") != pod.tenant.tenant_id:
        return None
    if host is not None and session.get("host", "").lower() != host:
        return None
    return session.get("user") or None


def pod_for_host(host: str) -> tuple[Pod, str]:
    """The pod and networking key whose URL is ``host`` (404 when none)."""
    from pods.proxy_auth import _tenant_of_host

    tenant = _tenant_of_host(host)
    label = host.split(".", 1)[0]
    pod_id, _, key = label.partition("-")
    pod = Pod.objects.filter(tenant=tenant, pod_id=pod_id).select_related("tenant").first() if tenant else None
    key = key or "default"
    if pod is None or ((pod.networking or {}).get(key) or {}).get("url", "").lower() != host:
        raise NotFound(f"No pod answers at {host}.")
    return pod, key
