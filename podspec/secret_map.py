"""``secret_map``: the pod field that names the secrets a pod's environment and files use.

Pure rules over plain values (no database). Each entry maps a key (letters, digits, ``_-``)
to one of upstream's forms:

- ``${secret:name}``: the writer's own secret ``name`` (stored expanded, ``${secret:<user>:name}``);
- ``${secret:user:name}``: the same, explicit (``user`` must be the writer);
- ``${pods:random:N}``: N random characters (8-128), generated once per pod and kept;
- ``${pods:default:value}`` / ``${pods:default:value:?description}``: a template's default;
- ``${:?description}``: a value the pod must give (a template's *required* value);
- ``${pods:url}``, ``${pods:networking:<key>:<url|hostname|port|protocol>}``: the pod's address;
- anything else: a literal (which may embed ``${:?…}`` / ``${pods:default:…}`` placeholders).

Environment values and ephemeral file contents use an entry through ``${pods:secrets:KEY}``
(``${pods:secrets:KEY:?description}``), anywhere in the string.
"""
import re
from dataclasses import dataclass

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_ENTRIES = 128
MAX_VALUE_LENGTH = 4096
RANDOM_MIN, RANDOM_MAX = 8, 128

SECRET_SHORT = re.compile(r"^\$\{secret:([A-Za-z0-9_-]+)\}$")
SECRET_EXPLICIT = re.compile(r"^\$\{secret:([A-Za-z0-9_.@-]+):([A-Za-z0-9_-]+)\}$")
RANDOM = re.compile(r"^\$\{pods:random:(\d+)\}$")
DEFAULT = re.compile(r"^\$\{pods:default:([^:}]*)(?::\?([^}]*))?\}$")
REQUIRED = re.compile(r"^\$\{:\?([^}]*)\}$")
URL = re.compile(r"^\$\{pods:url\}$")
NETWORKING = re.compile(r"^\$\{pods:networking:([a-z0-9]+):([a-z_]+)\}$")
NETWORKING_FIELDS = ("url", "hostname", "port", "protocol")
INLINE_PLACEHOLDER = re.compile(r"\$\{(pods:default:([^:}]*)(?::\?([^}]*))?|:\?([^}]*))\}")
# Where environment values and file contents use an entry.
USE = re.compile(r"\$\{pods:secrets:([A-Za-z0-9_-]+)(?::\?[^}]*)?\}")


@dataclass(frozen=True)
class Entry:
    kind: str  # secret | random | default | required | url | networking | literal
    owner: str = ""
    name: str = ""  # the secret's id; the networking key
    field: str = ""  # the networking field
    length: int = 0
    default: str = ""
    description: str = ""
    literal: str = ""


def parse(value: str) -> Entry:
    """What one ``secret_map`` value means; ValueError with a message for a malformed form."""
    if match := SECRET_SHORT.match(value):
        return Entry("secret", name=match.group(1))
    if match := SECRET_EXPLICIT.match(value):
        return Entry("secret", owner=match.group(1), name=match.group(2))
    if value.startswith("${secret:"):
        raise ValueError(f"{value!r} is not a secret reference: use ${{secret:name}} or ${{secret:user:name}} "
                         "(name: letters, digits, '_' and '-').")
    if match := RANDOM.match(value):
        length = int(match.group(1))
        if not RANDOM_MIN <= length <= RANDOM_MAX:
            raise ValueError(f"${{pods:random:N}} needs {RANDOM_MIN} <= N <= {RANDOM_MAX} (got {length}).")
        return Entry("random", length=length)
    if match := REQUIRED.match(value):
        return Entry("required", description=match.group(1))
    if match := DEFAULT.match(value):
        if match.group(1) == "":
            return Entry("required", description=match.group(2) or "")
        return Entry("default", default=match.group(1), description=match.group(2) or "")
    if URL.match(value):
        return Entry("networking", name="default", field="url")
    if match := NETWORKING.match(value):
        if match.group(2) not in NETWORKING_FIELDS:
            raise ValueError(f"${{pods:networking:{match.group(1)}:…}} field must be one of "
                             f"{', '.join(NETWORKING_FIELDS)} (got {match.group(2)!r}).")
        return Entry("networking", name=match.group(1), field=match.group(2))
    if value.startswith("${pods:") and value.endswith("}") and "${pods:secrets:" not in value:
        raise ValueError(f"{value!r} is not a placeholder this service knows.")
    return Entry("literal", literal=value)


def check(secret_map: dict) -> dict:
    """Errors by key (``{"KEY": [message]}``) for malformed keys or values; empty when fine."""
    errors = {}
    if len(secret_map) > MAX_ENTRIES:
        return {"secret_map": [f"At most {MAX_ENTRIES} entries (got {len(secret_map)})."]}
    for key, value in secret_map.items():
        if not KEY_RE.match(key):
            errors[key] = ["A key holds 1-128 letters, digits, '_' and '-'."]
            continue
        if not isinstance(value, str):
            errors[key] = ["Must be a string."]
            continue
        if len(value) > MAX_VALUE_LENGTH:
            errors[key] = [f"At most {MAX_VALUE_LENGTH} characters."]
            continue
        try:
            parse(value)
        except ValueError as exc:
            errors[key] = [str(exc)]
    return errors


def expand_short_references(secret_map: dict, writer: str) -> dict:
    """``${secret:name}`` → ``${secret:<writer>:name}`` (stored so, whoever starts the pod later)."""
    return {key: (f"${{secret:{writer}:{m.group(1)}}}" if isinstance(value, str)
                  and (m := SECRET_SHORT.match(value)) else value)
            for key, value in (secret_map or {}).items()}


def template_errors(secret_map: dict) -> dict:
    """A template may only declare placeholders and literals, never someone's secret."""
    errors = {}
    for key, value in (secret_map or {}).items():
        try:
            entry = parse(value)
        except ValueError:
            continue
        if entry.kind == "secret":
            errors[key] = [f"A template cannot refer to a secret ({value!r}): declare "
                           "'${:?what is needed}' (required) or '${pods:default:value:?what}' and let the "
                           "pod give its own ${secret:name}."]
    return errors


def required_missing(secret_map: dict) -> list[str]:
    """``"REQUIRED: 'KEY' - description"`` for each required value nobody gave (upstream's words)."""
    missing = []
    for key, value in sorted((secret_map or {}).items()):
        try:
            entry = parse(value)
        except ValueError:
            continue
        if entry.kind == "required":
            missing.append(f"REQUIRED: '{key}' - {entry.description or 'no description'}")
        elif entry.kind == "literal":
            for match in INLINE_PLACEHOLDER.finditer(value):
                if match.group(4) is not None or match.group(2) == "":
                    missing.append(f"REQUIRED: '{key}' - {match.group(4) or match.group(3) or 'no description'}")
    return missing


def unknown_uses(values: dict, secret_map: dict, field_name: str) -> dict:
    """``${pods:secrets:KEY}`` uses in ``values`` (name → string) of keys ``secret_map`` lacks."""
    errors = {}
    for name, value in (values or {}).items():
        if not isinstance(value, str):
            continue
        for key in USE.findall(value):
            if key not in (secret_map or {}):
                errors.setdefault(name, []).append(
                    f"{field_name} '{name}' uses secret_map key '{key}', which the secret_map does not define.")
    return errors


def uses(text: str) -> set[str]:
    return set(USE.findall(text or ""))


def substitute(text: str, resolved: dict) -> str:
    """``text`` with every ``${pods:secrets:KEY}`` replaced by ``resolved[KEY]``."""
    return USE.sub(lambda m: resolved[m.group(1)], text)


def fill_inline(value: str) -> str:
    """A literal with its inline ``${pods:default:v}`` placeholders replaced by their defaults."""
    return INLINE_PLACEHOLDER.sub(lambda m: m.group(2) or "", value)


def redacted(secret_map: dict) -> dict:
    """The map as responses show it: references and placeholders as written, literals hidden."""
    out = {}
    for key, value in (secret_map or {}).items():
        try:
            kind = parse(value).kind
        except (ValueError, TypeError):
            kind = "literal"
        out[key] = "<redacted>" if kind == "literal" else value
    return out
