"""The request principal: everything downstream asks it, never the raw headers."""
from dataclasses import dataclass

from tenancy.models import Tenant


@dataclass(frozen=True)
class Principal:
    """An authenticated caller within one tenant.

    ``admin_mode`` is on only when a tenant admin sent ``X-Pods-Admin: true``; it widens list
    endpoints to the whole tenant and is required for some operator actions.
    """

    tenant: Tenant
    username: str
    is_tenant_admin: bool = False
    admin_mode: bool = False
    auth_method: str = "tapis"  # "tapis", "tapis-service" or "oidc"

    # DRF's IsAuthenticated and Django's request.user protocol.
    is_authenticated = True
    is_anonymous = False

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id

    def __str__(self):
        return f"{self.username}@{self.tenant.tenant_id}"
