"""Which images a tenant may run.

Two sources, as upstream (its managed list plus ``conf.image_allow_list``):

- the managed **Image allow-list** (``templates_catalog.models.Image``): entries that admit or
  deny tenants, kept by tenant admins through the API and by site operators (rules in
  ``templates_catalog/models/images.py``);
- the static ``PODS_IMAGE_ALLOWLIST`` setting: fnmatch patterns over the image *name*, for
  images a site always allows (e.g. the simulator's ``kubesim/*``).

A deny in the managed list (an entry of the tenant itself or of the site naming ``-<tenant>``)
wins over both. Names compare without tag or digest, and without the implicit Docker Hub
prefixes (``postgres`` matches ``docker.io/library/postgres:16``). An image that comes from a
template version is not checked here: its publisher vouched for it when publishing
(``templates_catalog.services.tags``).
"""
import re
from fnmatch import fnmatchcase

from django.conf import settings

from templates_catalog.models import managed_verdict

# A Docker image reference: [registry[:port]/]path[:tag][@digest], lowercase path components.
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?"          # optional registry host[:port]/
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*"                # first path component
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"          # more path components
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"     # :tag
    r"(?:@sha256:[a-f0-9]{64})?$"                  # @digest
)


def image_name(image: str) -> str:
    """The repository name of ``image``: no tag, no digest, no implicit Docker Hub prefixes."""
    name = image.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:  # a tag, not a registry port
        name = name[:colon]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if name.startswith("library/"):
        name = name[len("library/"):]
    return name


def is_valid_reference(image: str) -> bool:
    return len(image) <= 256 and bool(IMAGE_REFERENCE.match(image))


def image_allowed(tenant, image: str) -> bool:
    """Whether ``tenant`` may run ``image``: the single place that decides."""
    name = image_name(image)
    verdict = managed_verdict(tenant, name)
    if verdict is not None:
        return verdict
    return any(fnmatchcase(name, pattern) for pattern in settings.PODS_IMAGE_ALLOWLIST)
