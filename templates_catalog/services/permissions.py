"""Granting and revoking template permissions, keeping at least one ADMIN user.

Sharing entries (``tenant.<id>`` and ``**``) are READ only and only tenant admins set or remove
them. Changes to one template's permissions are serialised by locking the template row.
"""
from django.db import transaction

from core.errors import BadRequest, Forbidden, InvalidInput, NotFound
from core.permissions import PermissionLevel
from templates_catalog.models import Template, TemplatePermission, is_sharing_entry
from templates_catalog.models.templates import TENANT_PREFIX
from tenancy.models import Tenant

LAST_ADMIN_MESSAGE = "Operation would leave the template with no ADMIN user. Rolling back."


def permission_lines(template: Template) -> list[str]:
    """``["alice:ADMIN", "tenant.dev:READ"]``, highest level first."""
    return [p.as_wire() for p in template.permissions.order_by("-level", "username")]


def _check_sharing_allowed(principal, username: str) -> None:
    if not principal.is_tenant_admin:
        raise Forbidden(f"Only tenant admins grant or revoke '{username}': "
                        "'tenant.<id>' and '**' share a template beyond its users.")


def _check_admin_remains(template: Template) -> None:
    if not TemplatePermission.objects.filter(template=template, level=PermissionLevel.ADMIN).exists():
        raise BadRequest(LAST_ADMIN_MESSAGE)


def _lock(template: Template) -> None:
    Template.objects.select_for_update().filter(pk=template.pk).first()


@transaction.atomic
def template_permission_set(*, template: Template, principal, username: str, level: int) -> list[str]:
    """Give ``username`` ``level`` on ``template`` (insert or change); returns the new lines."""
    _lock(template)
    if is_sharing_entry(username):
        _check_sharing_allowed(principal, username)
        if level != PermissionLevel.READ:
            raise InvalidInput({"level": [f"'{username}' can only be given READ (got "
                                             f"{PermissionLevel(level).label})."]})
        tenant_id = username[len(TENANT_PREFIX):] if username.startswith(TENANT_PREFIX) else None
        if tenant_id and not Tenant.objects.filter(tenant_id=tenant_id).exists():
            raise InvalidInput({"user": [f"There is no tenant '{tenant_id}'."]})
    TemplatePermission.objects.update_or_create(
        template=template, username=username, defaults={"level": level, "granted_by": principal.username})
    _check_admin_remains(template)
    return permission_lines(template)


@transaction.atomic
def template_permission_delete(*, template: Template, principal, username: str) -> list[str]:
    """Remove ``username``'s entry; returns the remaining lines. 404 when there is none."""
    _lock(template)
    entry = TemplatePermission.objects.filter(template=template, username=username).first()
    if entry is None:
        raise NotFound(f"'{username}' has no permission on template '{template.template_id}'.")
    if is_sharing_entry(username):
        _check_sharing_allowed(principal, username)
    entry.delete()
    _check_admin_remains(template)
    return permission_lines(template)
