"""Wire rendering of templates, versions and images (tapipy's response models).

Like upstream's ``display()``: no tenant, no permissions; naive-UTC datetimes without ``Z``.
Images also carry ``managed_by`` (``"site"`` or the managing tenant's id), which tells a tenant
admin which entries they may change.
"""
from core.datetimes import wire_datetime


def render_template(template) -> dict:
    return {
        "template_id": template.template_id,
        "description": template.description,
        "metatags": list(template.metatags),
        "archive_message": template.archive_message,
        "creation_ts": wire_datetime(template.creation_ts),
        "update_ts": wire_datetime(template.update_ts),
    }


def render_tag(version, *, full: bool = True) -> dict:
    """A version; ``full=False`` leaves out the pod definition and template id, as upstream."""
    rendered = {
        "template_id": version.template.template_id,
        "pod_definition": version.pod_definition,
        "commit_message": version.commit_message,
        "tag": version.tag,
        "tag_timestamp": version.tag_timestamp,
        "description": version.description,
        "added_by": version.added_by,
        "creation_ts": wire_datetime(version.creation_ts),
    }
    if not full:
        del rendered["template_id"], rendered["pod_definition"]
    return rendered


def render_image(image) -> dict:
    return {
        "image": image.image,
        "tenants": list(image.tenants),
        "description": image.description,
        "creation_ts": wire_datetime(image.creation_ts),
        "added_by": image.added_by,
        "managed_by": image.managed_by,
    }
