"""``Authorization: Bearer <JWT>`` from an OIDC provider, verified locally against its JWKS.

The issuer (``iss``) selects the tenant. The JWKS location is discovered once per issuer from
``/.well-known/openid-configuration``; PyJWKClient caches the key set for
``PODS_OIDC_JWKS_TTL`` seconds and refetches it when a token names an unknown ``kid`` (key
rotation at the provider). Nothing is sent to the provider per request.
"""
import threading

import jwt
import requests
from django.conf import settings
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .errors import AuthFailed
from .tapis import (
    active_tenant,
    build_principal,
    decode_error_message,
    require_rs256,
    unverified_parts,
)

_clients: dict[str, jwt.PyJWKClient] = {}
_clients_lock = threading.Lock()


def jwks_client(issuer: str) -> jwt.PyJWKClient:
    """The cached JWKS client of an issuer, discovering its ``jwks_uri`` the first time."""
    with _clients_lock:
        client = _clients.get(issuer)
    if client is not None:
        return client
    discovery = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(discovery, timeout=settings.PODS_OIDC_HTTP_TIMEOUT)
        response.raise_for_status()
        jwks_uri = response.json()["jwks_uri"]
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise AuthFailed("The token's OIDC provider could not be reached to verify it.") from exc
    client = jwt.PyJWKClient(jwks_uri, cache_jwk_set=True, lifespan=settings.PODS_OIDC_JWKS_TTL,
                             timeout=settings.PODS_OIDC_HTTP_TIMEOUT)
    with _clients_lock:
        return _clients.setdefault(issuer, client)


def forget_jwks_clients():
    """Drop cached providers (tests, and an operator changing a tenant's issuer)."""
    with _clients_lock:
        _clients.clear()


def _signing_keys(client: jwt.PyJWKClient, refresh=False):
    try:
        return client.get_signing_keys(refresh=refresh)
    except jwt.PyJWKClientConnectionError as exc:
        raise AuthFailed("The token's OIDC provider could not be reached to verify it.") from exc
    except jwt.PyJWKClientError as exc:
        raise AuthFailed("The OIDC provider publishes no usable signing key.") from exc


class OIDCBearerAuthentication(BaseAuthentication):
    """Authenticate OIDC access tokens (JWTs) of a tenant's configured issuer."""

    keyword = b"bearer"

    def authenticate_header(self, request):
        return 'Bearer realm="pods"'

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        token = parts[1].decode("latin-1")
        header, claims = unverified_parts(token)
        require_rs256(header)
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise AuthFailed("Token lacks the 'iss' claim.")
        tenant = active_tenant(issuer, oidc_issuer=issuer)
        options = {"require": ["exp", "iss"], "verify_aud": bool(tenant.oidc_audience)}
        last_error = None
        for key in self._candidate_keys(jwks_client(issuer), header):
            try:
                verified = jwt.decode(token, key, algorithms=["RS256"], issuer=issuer,
                                      audience=tenant.oidc_audience or None, leeway=settings.PODS_JWT_LEEWAY,
                                      options=options)
                break
            except jwt.InvalidSignatureError as exc:
                last_error = exc
            except jwt.PyJWTError as exc:
                raise AuthFailed(decode_error_message(exc)) from exc
        else:
            raise AuthFailed(decode_error_message(last_error))
        username = verified.get(tenant.oidc_username_claim)
        if not isinstance(username, str) or not username:
            raise AuthFailed(f"Token lacks the username claim {tenant.oidc_username_claim!r}.")
        return build_principal(request, tenant, username, "oidc"), token

    @staticmethod
    def _candidate_keys(client: jwt.PyJWKClient, header: dict):
        """The key named by ``kid`` (refetching the set once if unknown), or every key without one.

        Some providers sign ID tokens without a ``kid`` when they publish a single key.
        """
        kid = header.get("kid")
        if not kid:
            return [k.key for k in _signing_keys(client)]
        for refresh in (False, True):
            match = [k.key for k in _signing_keys(client, refresh=refresh) if k.key_id == kid]
            if match:
                return match
        raise AuthFailed("Token signing key is not among the provider's published keys.")
