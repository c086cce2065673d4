"""Creating, updating and deleting templates."""
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from core.errors import Conflict
from core.permissions import PermissionLevel
from templates_catalog.models import Template, TemplatePermission

EDITABLE_FIELDS = ("description", "metatags", "archive_message")


def _duplicate(template_id: str) -> Conflict:
    return Conflict(f"A template with template_id '{template_id}' already exists in this tenant.",
                    metadata={"template_id": template_id})


@transaction.atomic
def template_create(*, principal, data: dict) -> Template:
    """A new template in the principal's tenant; the creator gets ADMIN.

    409 when the tenant already has the id, or when it is a built-in catalog id (which would
    shadow the catalog for the tenant).
    """
    template_id = data["template_id"]
    if Template.objects.builtin().filter(template_id=template_id).exists():
        raise Conflict(f"'{template_id}' is a built-in catalog template; choose another template_id "
                       "(or build on it with pod_definition.template).", metadata={"template_id": template_id})
    if Template.objects.filter(tenant=principal.tenant, template_id=template_id).exists():
        raise _duplicate(template_id)
    now = timezone.now()
    template = Template(tenant=principal.tenant, template_id=template_id,
                        description=data.get("description", ""), metatags=data.get("metatags", []),
                        archive_message=data.get("archive_message", ""), created_by=principal.username,
                        creation_ts=now, update_ts=now)
    try:
        with transaction.atomic():
            template.save(force_insert=True)
    except IntegrityError:  # a concurrent create of the same id won
        raise _duplicate(template_id) from None
    TemplatePermission.objects.create(template=template, username=principal.username,
                                      level=PermissionLevel.ADMIN, granted_by=principal.username)
    return template


@transaction.atomic
def template_update(*, template: Template, data: dict) -> tuple[Template, list[str]]:
    """Apply the sent descriptive fields; returns the template and the names that changed."""
    current = Template.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=template.pk)
    changed = [name for name in EDITABLE_FIELDS if name in data and data[name] != getattr(current, name)]
    if not changed:
        return current, []
    for name in changed:
        setattr(current, name, data[name])
    current.update_ts = timezone.now()
    current.save(update_fields=[*changed, "update_ts"])
    return current, changed


def template_delete(*, template: Template) -> None:
    """Delete the template with all its versions and permissions.

    409 while another template's version builds on one of its versions, or a pod runs one.
    """
    try:
        with transaction.atomic():
            template.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict(f"Template '{template.template_id}' cannot be deleted: "
                       f"{describe_dependents(exc)} still use its versions.") from None


def describe_dependents(exc) -> str:
    """``"2 template version(s) and 1 pod(s)"`` from a Protected/RestrictedError (counts only:
    the dependents may belong to users or tenants the caller cannot see)."""
    objects = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", None) or ()
    counts: dict[str, int] = {}
    for obj in objects:
        label = "template version(s)" if obj._meta.model_name == "templatetag" else f"{obj._meta.model_name}(s)"
        counts[label] = counts.get(label, 0) + 1
    return " and ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "other objects"
