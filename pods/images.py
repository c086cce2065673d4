"""Which images a tenant may run.

Until the templates feature brings the managed Image allow-list, the list is the
``PODS_IMAGE_ALLOWLIST`` setting: fnmatch patterns over the image *name* (tag and digest
ignored, ``docker.io/`` and ``library/`` prefixes dropped, so ``postgres`` matches
``docker.io/library/postgres:16``). :func:`image_allowed` is the single place that decides;
the templates feature replaces its body.
"""
import re
from fnmatch import fnmatchcase

from django.conf import settings

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
    """Whether ``tenant`` may run ``image`` (the tenant matters once images are managed data)."""
    name = image_name(image)
    return any(fnmatchcase(name, pattern) for pattern in settings.PODS_IMAGE_ALLOWLIST)
