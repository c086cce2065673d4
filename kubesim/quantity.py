"""Kubernetes resource quantities (``500m``, ``2Gi``, ``1e3``) parsed to floats."""

from __future__ import annotations

import re

_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_ERROR = ("quantities must match the regular expression "
                  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")

_SUFFIXES = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "P": 1e15, "E": 1e18, "Ki": 2.0 ** 10, "Mi": 2.0 ** 20, "Gi": 2.0 ** 30, "Ti": 2.0 ** 40,
    "Pi": 2.0 ** 50, "Ei": 2.0 ** 60,
}


def parse_quantity(value: object) -> float:
    """Return the numeric value of a quantity; raise ``ValueError`` with apiserver wording."""
    if isinstance(value, bool):
        raise ValueError(QUANTITY_ERROR)
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(QUANTITY_ERROR)
    match = _QUANTITY_RE.match(value.strip())
    if not match:
        raise ValueError(QUANTITY_ERROR)
    number, suffix = match.groups()
    try:
        base = float(number)
    except ValueError:
        raise ValueError(QUANTITY_ERROR) from None
    if suffix in _SUFFIXES:
        return base * _SUFFIXES[suffix]
    if suffix[:1] in ("e", "E"):
        try:
            return base * 10 ** int(suffix[1:])
        except ValueError:
            raise ValueError(QUANTITY_ERROR) from None
    raise ValueError("unable to parse quantity's suffix")


def format_cpu(cores: float) -> str:
    """Render CPU cores the way kubectl does (``500m`` / ``2``)."""
    millis = int(round(cores * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"
