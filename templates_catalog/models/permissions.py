"""Per-user and sharing permissions on templates: ``alice:ADMIN``, ``tenant.dev:READ``, ``**:READ``.

One row per (template, username). Levels are READ < USER < ADMIN; sharing entries are READ only.
:mod:`templates_catalog.services.permissions` keeps at least one ADMIN user on every tenant
template.
"""
from django.core.validators import RegexValidator
from django.db import models

from core.permissions import ObjectPermission

TEMPLATE_GRANTEE_VALIDATOR = RegexValidator(
    r"^(\*\*|tenant\.[a-z][a-z0-9]{1,63}|[a-zA-Z_][a-zA-Z0-9_.@-]*)$",
    "A username (letters, digits and '_.@-', starting with a letter or '_'), 'tenant.<tenant_id>' "
    "or '**'.",
)


class TemplatePermission(ObjectPermission):
    template = models.ForeignKey("templates_catalog.Template", on_delete=models.CASCADE,
                                 related_name="permissions")
    username = models.CharField(max_length=150, validators=[TEMPLATE_GRANTEE_VALIDATOR])

    class Meta:
        ordering = ["template_id", "-level", "username"]
        constraints = [
            models.UniqueConstraint(fields=["template", "username"], name="template_permission_unique_user"),
        ]
        indexes = [models.Index(fields=["username", "template"], name="template_perm_user_idx")]
