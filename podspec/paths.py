"""Paths users give inside a volume or snapshot: normalised, and refused when they could escape.

These rules run before any path reaches the storage server; the server then also resolves the
final path with ``realpath`` and checks it stays below the object's root (symlinks a pod wrote
could otherwise point anywhere). See docs/volumes.md.
"""
import posixpath

from core.errors import InvalidInput

MAX_PATH = 1024


def clean_relative_path(raw: str, *, field: str = "path", allow_root: bool = True) -> str:
    """``raw`` as a normalised relative path (``""`` is the root).

    A leading ``/`` is read as "from the object's root" (upstream's paths start with ``/``).
    Refused with a 400 naming ``field``: NUL and other control characters, ``..`` segments
    (even when they would stay inside), backslashes, and overlong paths.
    """
    if not isinstance(raw, str):
        raise InvalidInput({field: ["Must be a string."]})
    if len(raw) > MAX_PATH:
        raise InvalidInput({field: [f"At most {MAX_PATH} characters."]})
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise InvalidInput({field: ["Must not contain NUL or other control characters."]})
    if "\\" in raw:
        raise InvalidInput({field: ["Must not contain backslashes."]})
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidInput({field: ["Must not contain '..' segments."]})
    cleaned = posixpath.join(*parts) if parts else ""
    if not cleaned and not allow_root:
        raise InvalidInput({field: ["Must name a file or directory below the root (not empty or '/')."]})
    return cleaned
