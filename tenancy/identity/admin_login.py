"""Browser login for staff through OIDC (mozilla-django-oidc), when OIDC settings are present."""
from django.conf import settings
from django.contrib.auth import get_user_model


def oidc_context(request):
    """Template context: whether the admin login page offers the OIDC button."""
    return {"oidc_enabled": getattr(settings, "OIDC_ENABLED", False)}


def _backend_base():
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    return OIDCAuthenticationBackend


class StaffOIDCBackend(_backend_base()):
    """Log in existing staff users only, matched on the configured username claim.

    Matching on email (the library's default) would let anyone who controls an address at the
    provider take over an account; creating users on the fly would grant admin-site access to
    every account of the provider.
    """

    def filter_users_by_claims(self, claims):
        username = claims.get(settings.OIDC_USERNAME_CLAIM)
        if not username:
            return get_user_model().objects.none()
        return get_user_model().objects.filter(username=username, is_staff=True, is_active=True)
