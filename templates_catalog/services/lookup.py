"""Finding templates and versions the way a caller sees them, and walking a version's bases."""

from core.errors import NotFound
from podspec.references import TagAddress, TemplateReference
from templates_catalog.models import Template, TemplateTag

# A definition may build on a template that builds on another...; this many levels at most.
MAX_CHAIN_DEPTH = 10


class UnknownReference(ValueError):
    """A template reference that names nothing the caller can use (the message says what)."""


class TemplateLoop(ValueError):
    """A chain of template versions that visits a template twice."""


def visible_templates(principal):
    """Templates the principal may read, with its ``level`` on each, in lookup order."""
    return (Template.objects.visible_to(principal).with_level(principal)
            .in_lookup_order(principal).select_related("tenant"))


def template_for(*, principal, template_id: str) -> Template:
    """The template ``template_id`` resolves to for ``principal`` (annotated with ``level``).

    404 when the principal can see no template with that id, whether or not one exists.
    """
    template = visible_templates(principal).filter(template_id=template_id).first()
    if template is None:
        raise NotFound(f"Template with identifier template_id: '{template_id}' not found.")
    return template


def versions_at(template: Template, address: TagAddress):
    """The template's versions at ``address``, newest first (``tag`` alone: all with that name)."""
    qs = TemplateTag.objects.filter(template=template, tag=address.tag)
    if address.timestamp is not None:
        qs = qs.filter(creation_ts=address.timestamp)
    return qs.select_related("template").order_by("-creation_ts", "-pk")


def version_for(*, principal, reference: TemplateReference) -> TemplateTag:
    """The version ``reference`` names for ``principal``: the newest with the tag, or the pinned one."""
    template = visible_templates(principal).filter(template_id=reference.template_id).first()
    if template is None:
        raise UnknownReference(f"Template '{reference.template_id}' not found.")
    return _version_in(template, reference)


def builtin_version_for(reference: TemplateReference) -> TemplateTag:
    """Like :func:`version_for`, among the built-in catalog only (catalog templates build on the
    catalog)."""
    template = Template.objects.builtin().filter(template_id=reference.template_id).first()
    if template is None:
        raise UnknownReference(f"Built-in template '{reference.template_id}' not found.")
    return _version_in(template, reference)


def _version_in(template: Template, reference: TemplateReference) -> TemplateTag:
    version = versions_at(template, reference.address).first()
    if version is None:
        raise UnknownReference(f"Template '{reference.template_id}' has no version '{reference.address}'.")
    return version


def tag_chain(version: TemplateTag) -> list[TemplateTag]:
    """``version`` and the versions it builds on, deepest first. Refuses loops and over-deep chains."""
    chain, seen = [], []
    current = version
    while current is not None:
        # A tag may build on another tag of its own template; coming back to a template:tag
        # already in the chain is a loop (as upstream names them).
        if (current.template_id, current.tag) in seen:
            names = " → ".join(f"{t.template.template_id}:{t.tag}" for t in [*chain, current])
            raise TemplateLoop(f"Template loop: {names}. A template tag cannot build on itself.")
        if len(chain) >= MAX_CHAIN_DEPTH:
            raise TemplateLoop(f"Templates build on each other more than {MAX_CHAIN_DEPTH} levels deep.")
        seen.append((current.template_id, current.tag))
        chain.append(current)
        current = (TemplateTag.objects.select_related("template").get(pk=current.base_id)
                   if current.base_id else None)
    return list(reversed(chain))
