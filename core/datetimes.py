"""Datetimes on the wire: naive UTC ISO-8601 without ``Z``, as upstream sends them."""
from datetime import UTC, datetime


def wire_datetime(value: datetime | None) -> str | None:
    """``2025-05-15T00:28:39.897690``: UTC, naive, no ``Z``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()
