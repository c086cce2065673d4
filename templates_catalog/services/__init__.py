"""Service functions: every write to templates, versions, permissions and images goes through these."""
from .images import (
                     image_add,
                     image_allowed,
                     image_delete,
                     image_for,
                     image_update,
                     images_add,
                     visible_images,
)
from .lookup import (
                     TemplateLoop,
                     UnknownReference,
                     tag_chain,
                     template_for,
                     version_for,
                     versions_at,
                     visible_templates,
)
from .permissions import (
                     permission_lines,
                     template_permission_delete,
                     template_permission_set,
)
from .tags import template_tag_create, template_tag_delete, template_tag_publish
from .templates import template_create, template_delete, template_update

__all__ = [
    "TemplateLoop", "UnknownReference", "image_add", "image_allowed", "image_delete", "image_for",
    "image_update", "images_add", "permission_lines", "tag_chain", "template_create", "template_delete",
    "template_for", "template_permission_delete", "template_permission_set", "template_tag_create",
    "template_tag_delete", "template_tag_publish", "template_update", "version_for", "versions_at",
    "visible_images", "visible_templates",
]
