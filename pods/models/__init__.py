"""Models of the pods app, one module per resource."""
from .tenants import Tenant, TenantKey

__all__ = ["Tenant", "TenantKey"]
