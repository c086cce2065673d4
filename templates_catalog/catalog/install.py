"""Installing the built-in catalog: idempotent, so ``make run`` and deployments can run it always.

- Each catalog image gets a site entry (created when missing; an operator's later edits to an
  existing entry, e.g. denying a tenant, are kept).
- Each catalog template is created as a site template with ``**:READ``; its description and
  metatags follow the code.
- A new version is published only when the definition in code differs from the newest version
  of the tag, so re-running changes nothing.
"""
import json

from django.db import transaction
from django.utils import timezone

from core.permissions import PermissionLevel
from templates_catalog.api.serializers import TemplatePodDefinitionSerializer
from templates_catalog.models import (
    SITE_WIDE,
    Image,
    Template,
    TemplatePermission,
    TemplateTag,
)
from templates_catalog.services.tags import template_tag_publish

from .definitions import CATALOG, CATALOG_USER


class CatalogDefinitionError(ValueError):
    """A definition in code that the API would refuse (a bug in ``definitions.py``)."""


def validated_definition(entry) -> dict:
    """The definition as the API would store it (the same checks as ``add_template_tag``)."""
    serializer = TemplatePodDefinitionSerializer(data=entry.pod_definition)
    if not serializer.is_valid():
        raise CatalogDefinitionError(f"Catalog template '{entry.template_id}': {serializer.errors}")
    return serializer.validated_data


@transaction.atomic
def catalog_install(catalog=CATALOG) -> list[str]:
    """Install or refresh the catalog; returns one line per change (empty: already up to date)."""
    changes = []
    for entry in catalog:
        for image in entry.images:
            _, created = Image.objects.get_or_create(
                tenant=None, image=image.image,
                defaults={"tenants": list(image.tenants), "description": image.description,
                          "added_by": CATALOG_USER})
            if created:
                changes.append(f"image {image.image}: added to the site allow-list")
        changes.extend(_install_template(entry))
    return changes


def _install_template(entry) -> list[str]:
    changes = []
    template, created = Template.objects.get_or_create(
        tenant=None, template_id=entry.template_id,
        defaults={"description": entry.description, "metatags": list(entry.metatags),
                  "created_by": CATALOG_USER})
    if created:
        changes.append(f"template {entry.template_id}: created")
    elif (template.description, list(template.metatags)) != (entry.description, list(entry.metatags)):
        template.description, template.metatags = entry.description, list(entry.metatags)
        template.update_ts = timezone.now()
        template.save(update_fields=["description", "metatags", "update_ts"])
        changes.append(f"template {entry.template_id}: description updated")
    _, shared = TemplatePermission.objects.get_or_create(
        template=template, username=SITE_WIDE,
        defaults={"level": PermissionLevel.READ, "granted_by": CATALOG_USER})
    if shared:
        changes.append(f"template {entry.template_id}: shared with every tenant (**:READ)")
    definition = validated_definition(entry)
    newest = TemplateTag.objects.filter(template=template, tag=entry.tag).order_by("-creation_ts").first()
    if newest is None or newest.pod_definition != _as_stored(definition) or \
            newest.description != entry.tag_description:
        version = template_tag_publish(
            template=template, added_by=CATALOG_USER, pod_definition=definition,
            commit_message=entry.commit_message, tag=entry.tag, description=entry.tag_description)
        changes.append(f"template {entry.template_id}: published {version.tag_timestamp}")
    return changes


def _as_stored(definition: dict) -> dict:
    """What a JSON column gives back for ``definition`` (tuples become lists, and so on)."""
    return json.loads(json.dumps(definition))
