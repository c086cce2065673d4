"""Pods and templates: resolving a pod's template, moving it to a newer version, and publishing a
pod's own settings as a template version (``save_pod_as_template_tag``)."""

from core.errors import Forbidden, InvalidInput
from core.permissions import PermissionLevel
from pods.derive import DICT_FIELDS
from pods.models import Pod
from podspec.merge import MERGED_FIELDS
from podspec.networking import NETWORKING_DEFAULTS
from podspec.references import TagAddress, parse_template_reference
from templates_catalog.api.serializers import TemplatePodDefinitionSerializer
from templates_catalog.models import TemplateTag
from templates_catalog.services import (
    TemplateLoop,
    UnknownReference,
    tag_chain,
    template_for,
    template_tag_publish,
    version_for,
    versions_at,
)


def template_version_for(*, principal, reference: str) -> TemplateTag | None:
    """The version ``reference`` (``id[:tag[@timestamp]]``) names for ``principal``; None for "".

    400 naming ``template`` when it names nothing the principal can read, or a broken chain.
    """
    if not reference:
        return None
    try:
        version = version_for(principal=principal, reference=parse_template_reference(reference))
        tag_chain(version)
    except (UnknownReference, TemplateLoop, ValueError) as exc:
        raise InvalidInput({"template": [str(exc)]}) from None
    return version


def newest_like(version: TemplateTag) -> TemplateTag:
    """The newest version of the same template with the same tag name."""
    return versions_at(version.template, TagAddress(version.tag)).first() or version


def definition_from_pod(pod: Pod) -> dict:
    """What the user set on ``pod``, as a template definition: the fields and keys of its ledger,
    plus its (pinned) template; networking without generated URLs and default values. A pod
    from before the ledger existed gives every field that is not empty."""
    ledger = set(pod.modified_fields or ())
    definition = {}
    for name in MERGED_FIELDS:
        stored = getattr(pod, name)
        if not ledger:
            if stored not in (None, "", {}, []):
                definition[name] = stored
        elif name in DICT_FIELDS:
            keys = [m.split(".", 1)[1] for m in sorted(ledger) if m.startswith(f"{name}.")]
            entries = {key: (stored or {}).get(key) for key in keys}
            # A mount the user removed stays a removal (null); other missing keys are dropped.
            definition[name] = entries if name == "volume_mounts" else {
                k: v for k, v in entries.items() if v is not None}
        elif name in ledger:
            definition[name] = stored
    if pod.template_tag_id is not None:
        definition["template"] = pod.template
    if "networking" in definition:
        definition["networking"] = {
            key: {k: v for k, v in entry.items() if k != "url" and NETWORKING_DEFAULTS.get(k, object()) != v}
            for key, entry in definition["networking"].items()}
    if "secret_map" in definition:
        # parity2: a template never carries a value: each entry becomes a required placeholder.
        definition["secret_map"] = {key: f"${{:?value for {key}}}" for key in definition["secret_map"]}
    return {name: value for name, value in definition.items() if value not in ({}, None)}


def pod_save_as_template_tag(*, pod: Pod, principal, data: dict) -> TemplateTag:
    """Publish ``pod``'s own settings as a version of template ``data["template_id"]``.

    The caller is the pod's ADMIN (checked by the view) and needs USER on the template: 404 if
    they cannot see it, 403 if they only read it. The version goes through the same checks as
    ``add_template_tag``; a pod built on a template saves that base (pinned) plus its changes.
    """
    template = template_for(principal=principal, template_id=data["template_id"])
    if template.level < PermissionLevel.USER:
        reason = "it is a built-in catalog template" if template.is_builtin else "you only have READ on it"
        raise Forbidden(f"Cannot add a version to template '{template.template_id}': {reason}.")
    serializer = TemplatePodDefinitionSerializer(data=definition_from_pod(pod))
    if not serializer.is_valid():
        raise InvalidInput({"pod_definition": serializer.errors})
    return template_tag_publish(template=template, added_by=principal.username, principal=principal,
                                pod_definition=serializer.validated_data, commit_message=data["commit_message"],
                                tag=data.get("tag", "latest"),
                                description=f"Saved from pod '{pod.pod_id}'.")
