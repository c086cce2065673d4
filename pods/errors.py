"""Domain errors. Each carries its HTTP status; the envelope's exception handler shapes them
(and passes ``metadata`` through)."""
from rest_framework import exceptions, status


class DomainError(exceptions.APIException):
    def __init__(self, message: str, *, metadata: dict | None = None):
        super().__init__(message)
        self.metadata = metadata or {}


class Conflict(DomainError):
    """409: a duplicate id, or an operation the pod's current status does not allow."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class QuotaExceeded(DomainError):
    """403: the tenant's quota would be exceeded."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "quota_exceeded"


class Forbidden(DomainError):
    """403: the caller may see the pod but not do this to it."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"


class BadRequest(DomainError):
    """400 that is not about one field's shape (e.g. a rule across the pod's permissions)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
