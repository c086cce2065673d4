"""Domain errors: plain exceptions that services, the spec module and the worker raise.

None of them knows about HTTP frameworks. Each carries the HTTP status it stands for, and
:func:`core.envelope.exception_handler` (the one place that maps errors to responses) shapes
it into the wire envelope; the worker catches them like any other exception and records the
message on the pod.
"""


class DomainError(Exception):
    """Base of the errors a caller can act on. ``message`` is meant for the user."""

    http_status = 400
    code = "error"

    def __init__(self, message: str, *, metadata: dict | None = None):
        super().__init__(message)
        self.message = message
        self.metadata = metadata or {}


class InvalidInput(DomainError):
    """400: input that breaks a rule, keyed by field path like a serializer's errors.

    ``errors`` is ``{"field": ["problem", ...]}``, nested for nested fields
    (``{"resources": {"cpu_request": ["..."]}}``), so the 400 names each field.
    """

    code = "invalid"

    def __init__(self, errors: dict | list | str):
        self.errors = errors if isinstance(errors, dict) else {"request": errors}
        super().__init__(_summary(self.errors))

    def under(self, name: str) -> list | dict:
        """The errors of one field (for a serializer re-raising them as its own)."""
        return self.errors.get(name, self.errors)


class BadRequest(DomainError):
    """400 that is not about one field's shape (e.g. a rule across an object's permissions)."""

    code = "bad_request"


class NotFound(DomainError):
    """404: no such object, or none the caller may see (never a 403: no existence leak)."""

    http_status = 404
    code = "not_found"


class Forbidden(DomainError):
    """403: the caller may see the object but not do this to it."""

    http_status = 403
    code = "permission_denied"


class QuotaExceeded(DomainError):
    """403: the tenant's quota would be exceeded."""

    http_status = 403
    code = "quota_exceeded"


class Conflict(DomainError):
    """409: a duplicate id, or an operation the object's current state does not allow."""

    http_status = 409
    code = "conflict"


class TooLarge(DomainError):
    """413: the request body (an upload) is larger than allowed, or would overfill its target."""

    http_status = 413
    code = "too_large"


class Unavailable(DomainError):
    """503: a dependency (database, cluster) does not answer; retrying later may succeed."""

    http_status = 503
    code = "unavailable"


def _summary(errors, prefix="") -> str:
    parts = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            parts.append(_summary(value, path))
    elif isinstance(errors, (list, tuple)):
        parts.extend(_summary(item, prefix) for item in errors)
    else:
        parts.append(f"{prefix}: {errors}" if prefix else str(errors))
    return "; ".join(p for p in parts if p)
