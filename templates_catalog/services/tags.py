"""Publishing and deleting template versions (tags).

Publishing checks what a version will make pods run: a base template must be readable by the
publisher and is pinned to its exact version; an image must be on the allow-list of the
template's tenant (the built-in catalog: on the site's). Pods from the version are then allowed
that image: the publisher vouched for it (see ``templates_catalog.services.images``).
"""
from datetime import timedelta

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from podspec.images import image_name
from podspec.references import DEFAULT_TAG, TagAddress, parse_template_reference
from templates_catalog.models import Image, Template, TemplateTag
from templates_catalog.services.images import image_allowed

from .lookup import (
    MAX_CHAIN_DEPTH,
    TemplateLoop,
    UnknownReference,
    builtin_version_for,
    tag_chain,
    version_for,
    versions_at,
)
from .templates import describe_dependents


def _definition_error(field: str, message: str) -> InvalidInput:
    return InvalidInput({"pod_definition": {field: [message]}})


def _resolve_base(template: Template, text: str, principal, tag: str | None = None) -> TemplateTag:
    """The version ``text`` names, as the publisher sees it (catalog templates: the catalog).

    A version may build on another tag of its own template (upstream's tests build
    ``catchall:recursive`` on ``catchall:fastapi``), never on a chain that comes back to the tag it
    is published as (``tag``; None, as the admin site's preview passes: to its template at all).
    """
    try:
        reference = parse_template_reference(text)
        base = (version_for(principal=principal, reference=reference) if principal is not None
                else builtin_version_for(reference))
        chain = tag_chain(base)
    except (UnknownReference, TemplateLoop, ValueError) as exc:
        raise _definition_error("template", str(exc)) from None
    if len(chain) >= MAX_CHAIN_DEPTH:  # the new version would be one level more
        raise _definition_error("template", f"Templates build on each other more than {MAX_CHAIN_DEPTH} levels "
                                            f"deep: '{base.reference}' already has {len(chain)} levels.")
    if any(version.template_id == template.pk and (tag is None or version.tag == tag) for version in chain):
        names = " → ".join([f"{template.template_id}:{tag}" if tag else template.template_id]
                           + [f"{v.template.template_id}:{v.tag}" for v in reversed(chain)])
        raise _definition_error("template", f"Template loop: {names}. A template tag cannot build on itself.")
    return base


def _check_image(template: Template, image: str) -> None:
    name = image_name(image)
    if template.is_builtin:
        allowed = Image.objects.filter(tenant__isnull=True, image=name).exists()
        where = "the site's allow-list"
    else:
        allowed = image_allowed(template.tenant, image)
        where = f"tenant '{template.tenant.tenant_id}''s allow-list"
    if not allowed:
        raise _definition_error("image", f"Image '{name}' is not on {where}; a tenant admin can add it "
                                         "with add_image.")


def _next_version_ts(template: Template, tag: str):
    """Now, in whole seconds, or one second after the newest version of the tag if that is not
    earlier: two publications in the same second still get distinct, ordered addresses."""
    now = timezone.now().replace(microsecond=0)
    newest = (TemplateTag.objects.filter(template=template, tag=tag)
              .order_by("-creation_ts").values_list("creation_ts", flat=True).first())
    if newest is not None and newest >= now:
        return newest + timedelta(seconds=1)
    return now


def prepared_definition(*, template: Template, pod_definition: dict, principal=None, tag: str | None = None):
    """``(definition, base)``: the definition with its base pinned, after the publish-time checks
    (base readable and loop-free, image allowed). Writes nothing; 400 naming the field."""
    definition = dict(pod_definition)
    base = None
    if definition.get("template"):
        base = _resolve_base(template, definition["template"], principal, tag)
        definition["template"] = base.reference
    if definition.get("image"):
        _check_image(template, definition["image"])
    return definition, base


@transaction.atomic
def template_tag_publish(*, template: Template, added_by: str, pod_definition: dict, commit_message: str,
                         tag: str = DEFAULT_TAG, description: str = "", principal=None) -> TemplateTag:
    """Add a version of ``template`` holding ``pod_definition`` (already shape-checked).

    ``principal`` is the publisher, whose view resolves a base template; ``None`` (the catalog
    installer) resolves bases within the built-in catalog.
    """
    Template.objects.select_for_update().filter(pk=template.pk).first()
    definition, base = prepared_definition(template=template, pod_definition=pod_definition,
                                           principal=principal, tag=tag)
    return TemplateTag.objects.create(
        template=template, tag=tag, creation_ts=_next_version_ts(template, tag),
        pod_definition=definition, commit_message=commit_message, description=description,
        added_by=added_by, base=base,
    )


def template_tag_create(*, template: Template, principal, data: dict) -> TemplateTag:
    """``add_template_tag``: publish a version as ``principal``."""
    return template_tag_publish(
        template=template, added_by=principal.username, principal=principal,
        pod_definition=data["pod_definition"], commit_message=data["commit_message"],
        tag=data.get("tag", DEFAULT_TAG), description=data.get("description", ""),
    )


def template_tag_delete(*, template: Template, address: TagAddress) -> list[str]:
    """Delete the versions at ``address`` (one version, or every version of a tag name).

    404 when there is none; 409 while another template's version builds on one, or a pod runs one.
    Returns the deleted versions' ``tag@timestamp`` addresses.
    """
    versions = list(versions_at(template, address))
    if not versions:
        raise NotFound(f"Template '{template.template_id}' has no tag '{address}'.")
    addresses = [version.tag_timestamp for version in versions]
    try:
        with transaction.atomic():
            for version in versions:
                version.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict(f"Tag '{address}' of template '{template.template_id}' cannot be deleted: "
                       f"{describe_dependents(exc)} still use it.") from None
    return addresses
