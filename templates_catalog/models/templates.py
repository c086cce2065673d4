"""Templates: named pod definitions, versioned by their tags, shared through permissions.

Tenancy (upstream keeps templates in one site-global table; here they belong to a tenant):

- A template belongs to the tenant it was created in, and its id is unique within that tenant.
  Templates with ``tenant = NULL`` are the site's **built-in catalog** (``manage.py
  install_catalog``): read-only through the API and readable by every tenant.
- Per-user entries (``alice:ADMIN``) count only for users of the template's own tenant: a username
  means a person of that tenant.
- Sharing entries, READ only and set by tenant admins: ``tenant.<id>:READ`` lets every user of
  tenant ``<id>`` read the template (the template's own tenant or another one), ``**:READ``
  lets every user of every tenant read it. The built-in catalog carries ``**:READ``.
- Admin mode (``X-Pods-Admin: true``) makes a tenant admin ADMIN on every template of the tenant.
"""
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.permissions import PermissionLevel
from podspec.references import (  # noqa: F401  (re-exported)
    RESERVED_TEMPLATE_IDS,
    TEMPLATE_ID_RE,
)

SITE_WIDE = "**"
TENANT_PREFIX = "tenant."
TEMPLATE_LEVELS = (PermissionLevel.READ, PermissionLevel.USER, PermissionLevel.ADMIN)


def tenant_entry(tenant_id: str) -> str:
    """The sharing entry that gives every user of ``tenant_id`` READ: ``tenant.<id>``."""
    return f"{TENANT_PREFIX}{tenant_id}"


def is_sharing_entry(username: str) -> bool:
    return username == SITE_WIDE or username.startswith(TENANT_PREFIX)


class TemplateQuerySet(models.QuerySet):
    def _shared_with(self, principal):
        from .permissions import TemplatePermission

        return TemplatePermission.objects.filter(
            template=OuterRef("pk"), username__in=(SITE_WIDE, tenant_entry(principal.tenant_id)))

    def visible_to(self, principal):
        """Templates ``principal`` may read: its own entry (same tenant), a sharing entry naming
        its tenant or ``**``, or, in admin mode, every template of its tenant."""
        from .permissions import TemplatePermission

        own = TemplatePermission.objects.filter(template=OuterRef("pk"), username=principal.username)
        condition = Q(Exists(self._shared_with(principal))) | (Q(tenant=principal.tenant) & Q(Exists(own)))
        if principal.admin_mode:
            condition |= Q(tenant=principal.tenant)
        return self.filter(condition)

    def with_level(self, principal):
        """Annotate ``level``: the principal's effective level on each template (0 = none).

        Sharing entries give READ; a user's own entry counts only in the template's tenant;
        admin mode gives ADMIN on the tenant's templates.
        """
        from .permissions import TemplatePermission

        own = (TemplatePermission.objects
               .filter(template=OuterRef("pk"), username=principal.username,
                       template__tenant=principal.tenant)
               .values("level")[:1])
        whens = []
        if principal.admin_mode:
            whens.append(When(tenant=principal.tenant, then=Value(int(PermissionLevel.ADMIN))))
        whens.append(When(Q(Exists(own)), then=Subquery(own)))
        whens.append(When(Exists(self._shared_with(principal)), then=Value(int(PermissionLevel.READ))))
        return self.annotate(level=Coalesce(Case(*whens, output_field=IntegerField()), Value(0)))

    def in_lookup_order(self, principal):
        """Order in which a template id is resolved: the caller's tenant first, then the built-in
        catalog, then templates other tenants share (oldest first), so a reference never changes
        meaning because another tenant later shares a template with the same id."""
        return self.annotate(lookup_rank=Case(
            When(tenant=principal.tenant, then=Value(0)),
            When(tenant__isnull=True, then=Value(1)),
            default=Value(2), output_field=IntegerField(),
        )).order_by("lookup_rank", "creation_ts", "pk")

    def builtin(self):
        return self.filter(tenant__isnull=True)


class Template(models.Model):
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="templates",
                               help_text="Owning tenant; empty for the built-in catalog.")
    template_id = models.CharField(max_length=64)
    description = models.CharField(max_length=1600, blank=True, default="")
    metatags = ArrayField(models.CharField(max_length=128), default=list, blank=True)
    archive_message = models.CharField(max_length=1000, blank=True, default="",
                                       help_text="Shown to users of the template (e.g. 'deprecated').")
    created_by = models.CharField(max_length=150, blank=True, default="")
    creation_ts = models.DateTimeField(default=timezone.now)
    update_ts = models.DateTimeField(default=timezone.now)

    objects = TemplateQuerySet.as_manager()

    class Meta:
        ordering = ["template_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "template_id"], name="template_unique_per_tenant"),
            models.UniqueConstraint(fields=["template_id"], condition=Q(tenant__isnull=True),
                                    name="template_builtin_unique"),
        ]

    def __str__(self):
        return f"{self.template_id} ({self.owner_label})"

    @property
    def is_builtin(self) -> bool:
        return self.tenant_id is None

    @property
    def owner_label(self) -> str:
        return "built-in catalog" if self.is_builtin else f"tenant {self.tenant.tenant_id}"
