"""Docker image references: validity and the repository *name* that image rules compare.

Names compare without tag or digest, and without the implicit Docker Hub prefixes
(``postgres`` matches ``docker.io/library/postgres:16``). Which names a tenant may run is the
templates catalog's business (:func:`templates_catalog.models.image_allowed`).
"""
import re

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


DOCKER_HUB = "docker.io"


def registry_of(image: str) -> str:
    """The registry ``image`` is pulled from: its first path component when that names a host
    (holds a ``.`` or a ``:``, or is ``localhost``), else Docker Hub (``docker.io``)."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host = first.lower()
        return DOCKER_HUB if host in ("index.docker.io", "registry-1.docker.io") else host
    return DOCKER_HUB
