"""Models of the templates catalog, one module per resource."""
from .images import Image, ImageQuerySet, image_allowed, image_denied, managed_verdict
from .permissions import TemplatePermission
from .registries import RegistryCredential, pull_credential_for
from .tags import TIMESTAMP_FORMAT, TemplateTag
from .templates import (
                        RESERVED_TEMPLATE_IDS,
                        SITE_WIDE,
                        TEMPLATE_ID_RE,
                        TEMPLATE_LEVELS,
                        Template,
                        TemplateQuerySet,
                        is_sharing_entry,
                        tenant_entry,
)

__all__ = [
    "Image", "ImageQuerySet", "RegistryCredential", "pull_credential_for", "RESERVED_TEMPLATE_IDS", "SITE_WIDE", "TEMPLATE_ID_RE", "TEMPLATE_LEVELS",
    "TIMESTAMP_FORMAT", "Template", "TemplatePermission", "TemplateQuerySet", "TemplateTag",
    "image_allowed", "image_denied", "is_sharing_entry", "managed_verdict", "tenant_entry",
]
