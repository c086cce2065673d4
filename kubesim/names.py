"""Name, label and annotation validation (k8s.io/apimachinery/pkg/util/validation).

Each checker returns a list of human-readable problems (empty when valid); the
wording follows apimachinery so error messages match a real cluster.
"""

from __future__ import annotations

import random
import re

DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + ")*"
DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE = "(" + QUALIFIED_NAME + ")?"
_LABEL_RE = re.compile(DNS1123_LABEL + r"\Z")
_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN + r"\Z")
_DNS1035_RE = re.compile(DNS1035_LABEL + r"\Z")
_QUALIFIED_RE = re.compile(QUALIFIED_NAME + r"\Z")
_LABEL_VALUE_RE = re.compile(LABEL_VALUE + r"\Z")
_SVC_NAME_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")
_HAS_LETTER = re.compile("[a-z]")
_ENV_NAME_RE = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*\Z")
_CONFIG_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+\Z")


def _too_long(limit: int) -> str:
    return f"must be no more than {limit} characters"


def dns1123_label(value: str) -> list[str]:
    """RFC 1123 label: namespaces, container and volume names."""
    errs = []
    if len(value) > 63:
        errs.append(_too_long(63))
    if not _LABEL_RE.match(value):
        errs.append("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                    "characters or '-', and must start and end with an alphanumeric character "
                    "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                    f"'{DNS1123_LABEL}')")
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    """RFC 1123 subdomain: pods, secrets, configmaps, PVCs, events."""
    errs = []
    if len(value) > 253:
        errs.append(_too_long(253))
    if not _SUBDOMAIN_RE.match(value):
        errs.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric "
                    "character (e.g. 'example.com', regex used for validation is "
                    f"'{DNS1123_SUBDOMAIN}')")
    return errs


def dns1035_label(value: str) -> list[str]:
    """RFC 1035 label: service names (must start with a letter)."""
    errs = []
    if len(value) > 63:
        errs.append(_too_long(63))
    if not _DNS1035_RE.match(value):
        errs.append("a DNS-1035 label must consist of lower case alphanumeric characters or "
                    "'-', start with an alphabetic character, and end with an alphanumeric "
                    "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
                    f"'{DNS1035_LABEL}')")
    return errs


def qualified_name(value: str) -> list[str]:
    """Label / annotation key: optional DNS-subdomain prefix + ``/`` + name."""
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + e for e in dns1123_subdomain(prefix))
    else:
        return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
                "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or '123-abc', regex used for validation is "
                f"'{QUALIFIED_NAME}') with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    else:
        if len(name) > 63:
            errs.append("name part " + _too_long(63))
        if not _QUALIFIED_RE.match(name):
            errs.append("name part must consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character (e.g. 'MyName', "
                        " or 'my.name',  or '123-abc', regex used for validation is "
                        f"'{QUALIFIED_NAME}')")
    return errs


def label_value(value: str) -> list[str]:
    """Label value: empty or a qualified name of at most 63 characters."""
    errs = []
    if len(value) > 63:
        errs.append(_too_long(63))
    if not _LABEL_VALUE_RE.match(value):
        errs.append("a valid label must be an empty string or consist of alphanumeric "
                    "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                    "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                    f"validation is '{LABEL_VALUE}')")
    return errs


def port_name(value: str) -> list[str]:
    """IANA_SVC_NAME: container and service port names."""
    errs = []
    if len(value) > 15:
        errs.append(_too_long(15))
    if not _SVC_NAME_RE.match(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if not _HAS_LETTER.search(value):
        errs.append("must contain at least one letter (a-z)")
    return errs


def env_var_name(value: str) -> list[str]:
    """Environment variable names (relaxed C identifier rules)."""
    if _ENV_NAME_RE.match(value):
        return []
    return ["a valid environment variable name must consist of alphabetic characters, digits, "
            "'_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or "
            "'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
            "'[-._a-zA-Z][-._a-zA-Z0-9]*')"]


def config_key(value: str) -> list[str]:
    """Secret / ConfigMap data keys."""
    errs = []
    if len(value) > 253:
        errs.append(_too_long(253))
    if not _CONFIG_KEY_RE.match(value):
        errs.append("a valid config key must consist of alphanumeric characters, '-', '_' or "
                    "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                    "validation is '[-._a-zA-Z0-9]+')")
    if value in (".", ".."):
        errs.append(f"must not be '{value}'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apiserver's utilrand alphabet (no vowels)


def generate_name(prefix: str, rng: random.Random | None = None) -> str:
    """``generateName``: prefix (truncated to keep 5 suffix chars valid) + 5 random chars."""
    rng = rng or random
    max_prefix = 63 - 5
    if len(prefix) > max_prefix:
        prefix = prefix[:max_prefix]
    return prefix + "".join(rng.choice(_SUFFIX_ALPHABET) for _ in range(5))

