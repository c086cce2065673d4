"""Permission classes for template and image endpoints.

Visibility is not a permission class: views fetch templates through
``services.template_for``, which only finds what the caller may read, so an invisible template
is a 404 (no existence leak). These classes then compare the caller's ``level`` on a *visible*
template with what the endpoint needs: too low is a 403.
"""
from rest_framework.permissions import BasePermission

from core.permissions import ObjectLevelPermission, PermissionLevel


class TemplateLevelPermission(ObjectLevelPermission):
    """Base: the caller's level on the template must be at least ``required_level``."""

    kind = "template"

    def object_id(self, obj) -> str:
        return obj.template_id

    def refusal(self, obj, have: int) -> str:
        if obj.is_builtin:
            return (f"'{obj.template_id}' is a built-in catalog template: read-only through the "
                    "API (site operators manage it with manage.py install_catalog).")
        return super().refusal(obj, have)


class CanReadTemplate(TemplateLevelPermission):
    """READ: see the template and its versions."""

    required_level = PermissionLevel.READ


class CanUseTemplate(TemplateLevelPermission):
    """USER: update the template, publish versions, read its permissions."""

    required_level = PermissionLevel.USER


class CanAdminTemplate(TemplateLevelPermission):
    """ADMIN: delete the template or its versions, change permissions."""

    required_level = PermissionLevel.ADMIN


class IsTenantAdmin(BasePermission):
    """The caller is an admin of its tenant (listed in the tenant's ``admins``)."""

    message = "Only tenant admins change the image allow-list."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_tenant_admin", False))


class InAdminMode(BasePermission):
    """A tenant admin acting in admin mode (``X-Pods-Admin: true``), as upstream 26Q3 asks of
    image writes: holding the role is not enough, the request must say it acts as admin."""

    message = ("Changing the image allow-list needs admin mode: a tenant admin sends the header "
               "X-Pods-Admin: true.")

    def has_permission(self, request, view):
        return bool(getattr(request.user, "admin_mode", False))
