"""``Authorization: Bearer <JWT>`` from an OIDC provider, verified locally against its JWKS.

The issuer (``iss``) selects the tenant, whose configured audience the token must carry (a
tenant with an issuer but no audience refuses bearer tokens, unless an admin ticked "accept any
OIDC audience"). Cheap checks (issuer, expiry, audience) run before any key is looked up; the
keys come from :mod:`tenancy.identity.jwks` (cached, shared, refetched at most once per
``PODS_OIDC_REFETCH_SECONDS`` per issuer, never waiting longer than ``PODS_OIDC_HTTP_TIMEOUT``).
Nothing is sent to the provider per request.
"""
import time

import jwt
from django.conf import settings
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import jwks
from .errors import AuthFailed
from .tapis import (
    active_tenant,
    build_principal,
    check_username,
    decode_error_message,
    require_rs256,
    unverified_parts,
)


def forget_jwks_clients():
    """Drop cached providers' keys (tests, and an operator changing a tenant's issuer)."""
    jwks.forget()


def _precheck(claims: dict, tenant) -> None:
    """What can be refused before any key is looked up (so junk tokens never cause a fetch)."""
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise AuthFailed("Token lacks the required claim 'exp'.")
    if exp + settings.PODS_JWT_LEEWAY < time.time():
        raise AuthFailed("Token has expired.")
    if tenant.oidc_audience:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if tenant.oidc_audience not in audiences:
            raise AuthFailed("Token audience is not accepted by this tenant.")
    elif not tenant.oidc_accept_any_audience:
        raise AuthFailed(f"Tenant {tenant.tenant_id!r} has no OIDC audience configured, so its bearer tokens "
                         "are refused (a site admin sets the audience, or explicitly accepts any).")


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
        _precheck(claims, tenant)
        options = {"require": ["exp", "iss"], "verify_aud": bool(tenant.oidc_audience)}
        last_error = None
        for key in [k.key for k in jwks.signing_keys(issuer, header.get("kid") or None)]:
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
        check_username(username, f"The token's {tenant.oidc_username_claim!r} claim")
        return build_principal(request, tenant, username, "oidc"), token
