"""drf-spectacular hooks."""

# Paths served twice for compatibility; the schema documents each operation once, at the
# canonical `/v3/...` path.
_ALIASES = ("/pods", "/v3/healthcheck")


def drop_alias_paths(endpoints, **kwargs):
    """Preprocessing hook: leave the `/pods/...` alias and `/v3/healthcheck` out of the schema."""
    return [
        endpoint for endpoint in endpoints
        if not any(endpoint[0] == alias or endpoint[0].startswith(alias + "/") for alias in _ALIASES)
    ]
