"""``X-Tapis-Token``: Tapis RS256 JWTs verified with the tenant's public keys."""
import re

import jwt
from django.conf import settings
from rest_framework.authentication import BaseAuthentication

from tenancy import cache
from tenancy.models import Tenant

from .errors import AuthFailed
from .principal import Principal

TOKEN_HEADER = "HTTP_X_TAPIS_TOKEN"
OBO_USER_HEADER = "HTTP_X_TAPIS_USER"
OBO_TENANT_HEADER = "HTTP_X_TAPIS_TENANT"
ADMIN_HEADER = "HTTP_X_PODS_ADMIN"
# The usernames object permissions can name (core.permissions.USERNAME_VALIDATOR, without the
# "*" wildcard): a caller is always one person, never "everyone".
USERNAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]{0,149}$")


def check_username(username, where: str) -> str:
    """``username`` if it is one (a string a permission can name), else 401 saying where it came from."""
    if not isinstance(username, str) or not username:
        raise AuthFailed(f"{where} names no user.")
    if not USERNAME_RE.match(username):
        raise AuthFailed(f"{where} is not a valid username (letters, digits and '_.@-', starting with a "
                         "letter or '_', at most 150 characters).")
    return username


def unverified_parts(token: str) -> tuple[dict, dict]:
    """Header and claims of a JWT before verification, or 401 if it is not a JWT at all."""
    try:
        parts = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})  # one parse, not two
        return parts["header"], parts["payload"]
    except jwt.PyJWTError as exc:
        raise AuthFailed("Malformed token: it is not a decodable JWT.") from exc


def require_rs256(header: dict):
    alg = header.get("alg")
    if alg != "RS256":
        raise AuthFailed(f"Token algorithm {alg!r} is not accepted; tokens must be signed with RS256.")


def active_tenant(tenant_id, **lookup) -> Tenant:
    """The active tenant (from the per-process cache, :mod:`tenancy.cache`), or 401 naming the problem.

    ``oidc_issuer=...`` looks the tenant up by its OIDC issuer instead of its id.
    """
    return active_tenant_entry(tenant_id, **lookup).tenant


def active_tenant_entry(tenant_id, *, oidc_issuer=None) -> cache.TenantEntry:
    """The active tenant with its active keys, or 401 naming the problem."""
    entry = cache.tenant_entry_for_issuer(oidc_issuer) if oidc_issuer else cache.tenant_entry(tenant_id)
    if entry is None:
        raise AuthFailed(f"Unknown tenant {tenant_id!r}.")
    if not entry.tenant.is_active:
        raise AuthFailed(f"Tenant {entry.tenant.tenant_id!r} is inactive.")
    return entry


def decode_error_message(exc: jwt.PyJWTError, what="Token") -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return f"{what} has expired."
    if isinstance(exc, jwt.InvalidSignatureError):
        return f"{what} signature is not valid for any of the tenant's keys."
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"{what} lacks the required claim {exc.claim!r}."
    if isinstance(exc, jwt.InvalidAudienceError):
        return f"{what} audience is not accepted by this tenant."
    if isinstance(exc, jwt.InvalidIssuerError):
        return f"{what} issuer does not match the tenant."
    if isinstance(exc, jwt.ImmatureSignatureError):
        return f"{what} is not valid yet."
    return f"{what} is invalid: {exc}"


def admin_mode_requested(request) -> bool:
    return request.META.get(ADMIN_HEADER, "").strip().lower() == "true"


def build_principal(request, tenant: Tenant, username: str, auth_method: str) -> Principal:
    """Principal for ``username``; admin mode only for tenant admins (anyone else: 403)."""
    from rest_framework.exceptions import PermissionDenied

    is_admin = tenant.is_admin(username)
    admin_mode = admin_mode_requested(request)
    if admin_mode and not is_admin:
        raise PermissionDenied("The X-Pods-Admin header is only for tenant admins.")
    return Principal(tenant=tenant, username=username, is_tenant_admin=is_admin,
                     admin_mode=admin_mode, auth_method=auth_method)


class TapisTokenAuthentication(BaseAuthentication):
    """Authenticate ``X-Tapis-Token`` (user tokens, and service tokens acting on behalf of a user).

    The tenant comes from the ``tapis/tenant_id`` claim; the signature must verify with one of
    that tenant's active keys (the one named by ``kid`` when the token has one). A service token
    (``tapis/account_type: service``) acts for ``X-Tapis-User`` in ``X-Tapis-Tenant`` only when
    its tenant is marked as a service-token issuer, and only for the tenants that issuer may act
    for (``Tenant.services_may_act_for``); anything else is 403.
    """

    def authenticate_header(self, request):
        return "X-Tapis-Token"

    def authenticate(self, request):
        token = request.META.get(TOKEN_HEADER)
        if token is None:
            return None
        token = token.strip()
        if not token:
            raise AuthFailed("The X-Tapis-Token header is empty.")
        header, claims = unverified_parts(token)
        require_rs256(header)
        tenant_id = claims.get("tapis/tenant_id")
        if not isinstance(tenant_id, str) or not tenant_id:
            raise AuthFailed("Token lacks the 'tapis/tenant_id' claim.")
        entry = active_tenant_entry(tenant_id)
        tenant = entry.tenant
        claims = self._verify(token, header, entry)

        username = claims.get("tapis/username")
        if not isinstance(username, str) or not username:
            raise AuthFailed("Token lacks the 'tapis/username' claim.")
        check_username(username, "The token's 'tapis/username' claim")
        obo_user = request.META.get(OBO_USER_HEADER)
        obo_tenant = request.META.get(OBO_TENANT_HEADER)
        if claims.get("tapis/account_type") == "service":
            if not obo_user or not obo_tenant:
                raise AuthFailed("Service tokens must name the user with X-Tapis-User and X-Tapis-Tenant.")
            return self._on_behalf_of(request, tenant, obo_user, obo_tenant), token
        if obo_user or obo_tenant:
            raise AuthFailed("X-Tapis-User and X-Tapis-Tenant are only accepted with service tokens.")
        return build_principal(request, tenant, username, "tapis"), token

    @staticmethod
    def _on_behalf_of(request, issuer: Tenant, obo_user: str, obo_tenant: str) -> Principal:
        """The principal a verified service token of ``issuer`` acts as, if the issuer may."""
        from rest_framework.exceptions import PermissionDenied

        if not issuer.may_issue_service_tokens:
            raise PermissionDenied(f"Tenant {issuer.tenant_id!r} may not issue service tokens: its service tokens "
                                   "cannot act on behalf of users (a site admin marks issuing tenants).")
        check_username(obo_user.strip(), "X-Tapis-User")
        tenant = active_tenant(obo_tenant.strip())
        if not issuer.services_may_act_for(tenant):
            raise PermissionDenied(f"Service tokens of tenant {issuer.tenant_id!r} may not act for tenant "
                                   f"{tenant.tenant_id!r}.")
        return build_principal(request, tenant, obo_user.strip(), "tapis-service")

    @staticmethod
    def _verify(token: str, header: dict, entry: cache.TenantEntry) -> dict:
        keys = entry.keys
        kid = header.get("kid")
        if kid and any(k.kid == kid for k in keys):
            keys = [k for k in keys if k.kid == kid]
        if not keys:
            raise AuthFailed(f"Tenant {entry.tenant.tenant_id!r} has no active key to verify tokens.")
        last_error = None
        for key in keys:
            try:
                return jwt.decode(
                    token, key.key, algorithms=["RS256"], leeway=settings.PODS_JWT_LEEWAY,
                    options={"require": ["exp"], "verify_aud": False},
                )
            except jwt.InvalidSignatureError as exc:
                last_error = exc  # try the next key of a rotation
            except jwt.PyJWTError as exc:
                raise AuthFailed(decode_error_message(exc)) from exc
        raise AuthFailed(decode_error_message(last_error))
