"""Parsing the ways a template version is named.

- a tag address (path segment of ``get_template_tag``): ``tag`` or ``tag@YYYY-MM-DD-HH:MM:SS``;
- a template reference (a pod's ``template`` field, a definition's base): ``id``, ``id:tag`` or
  ``id:tag@YYYY-MM-DD-HH:MM:SS``; the tag defaults to ``latest``;
- upstream's legacy ``pod_template`` names: ``neo4j`` or ``template/neo4j``.

Parsers raise ``ValueError`` with a message meant for the user; callers attach the field name.
"""
import re
from dataclasses import dataclass
from datetime import UTC, datetime

TEMPLATE_ID_RE = re.compile(r"^[a-z][a-z0-9]+$")
# ``/pods/templates/tags`` lists every template with its tags, so no template may be named that.
RESERVED_TEMPLATE_IDS = frozenset({"tags"})
# A version's timestamp in its address: UTC, whole seconds.
TIMESTAMP_FORMAT = "%Y-%m-%d-%H:%M:%S"
TAG_RE = re.compile(r"^[a-zA-Z0-9.-]{1,80}$")
DEFAULT_TAG = "latest"
LEGACY_PREFIX = "template/"


def check_template_id(value: str) -> str:
    if not 3 <= len(value) <= 64 or not TEMPLATE_ID_RE.match(value):
        raise ValueError(f"{value!r} is not a template id: 3-64 lowercase letters and digits, "
                         "starting with a letter (^[a-z][a-z0-9]+$).")
    if value in RESERVED_TEMPLATE_IDS:
        raise ValueError(f"'{value}' is a reserved word and cannot be a template id.")
    return value


def check_tag(value: str) -> str:
    if not TAG_RE.match(value):
        raise ValueError(f"{value!r} is not a tag: 1-80 letters, digits, '.' and '-'.")
    return value


def parse_timestamp(text: str) -> datetime:
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not a timestamp of the form YYYY-MM-DD-HH:MM:SS (UTC).") from None


@dataclass(frozen=True)
class TagAddress:
    tag: str
    timestamp: datetime | None = None  # None: every version with this tag name, newest first

    def __str__(self):
        if self.timestamp is None:
            return self.tag
        return f"{self.tag}@{self.timestamp.strftime(TIMESTAMP_FORMAT)}"


def parse_tag_address(text: str) -> TagAddress:
    tag, at, stamp = text.partition("@")
    check_tag(tag)
    return TagAddress(tag, parse_timestamp(stamp) if at else None)


@dataclass(frozen=True)
class TemplateReference:
    template_id: str
    address: TagAddress

    def __str__(self):
        return f"{self.template_id}:{self.address}"

    @property
    def pinned(self) -> bool:
        return self.address.timestamp is not None


def parse_template_reference(text: str) -> TemplateReference:
    """``neo4j`` → neo4j:latest; ``neo4j:v5`` → newest v5; ``neo4j:v5@2025-01-02-03:04:05`` → that version.

    An ``@timestamp`` needs an explicit tag (``neo4j@...`` is refused, as upstream).
    """
    template_id, colon, rest = text.partition(":")
    if "@" in template_id:
        raise ValueError("A version timestamp needs a tag: write 'id:tag@YYYY-MM-DD-HH:MM:SS'.")
    check_template_id(template_id)
    return TemplateReference(template_id, parse_tag_address(rest) if colon else TagAddress(DEFAULT_TAG))


def legacy_template_id(pod_template: str) -> str:
    """Upstream's ``pod_template`` (``neo4j`` or ``template/neo4j``) → the template id."""
    name = pod_template[len(LEGACY_PREFIX):] if pod_template.startswith(LEGACY_PREFIX) else pod_template
    return check_template_id(name)
