"""``Status`` error objects, modelled on k8s.io/apimachinery/pkg/api/errors.

Every failing API call raises :class:`ApiError`; the HTTP layer turns it into a
``Status`` JSON body with the matching code.  ``details.kind`` is the resource
plural for NotFound/AlreadyExists/Conflict and the Kind for Invalid, exactly as
the real apiserver does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """An API failure that is reported to the client as a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict:
        """The ``Status`` object for this error."""
        body: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason,
        }
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(name: str | None, kind: str, group: str = "") -> dict:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = kind
    return details


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    """404 ``pods "x" not found``."""
    return ApiError(404, "NotFound", f'{_qualified(plural, group)} "{name}" not found',
                    _details(name, plural, group))


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    """409 ``pods "x" already exists``."""
    return ApiError(409, "AlreadyExists", f'{_qualified(plural, group)} "{name}" already exists',
                    _details(name, plural, group))


def conflict(plural: str, name: str, detail: str | None = None, group: str = "") -> ApiError:
    """409 Conflict for a stale resourceVersion or a failed precondition."""
    detail = detail or ("the object has been modified; please apply your changes to the "
                        "latest version and try again")
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": '
                    f'{detail}', _details(name, plural, group))


def bad_request(message: str) -> ApiError:
    """400 BadRequest (no details, like ``errors.NewBadRequest``)."""
    return ApiError(400, "BadRequest", message)


def forbidden(plural: str, name: str, detail: str) -> ApiError:
    """403 Forbidden with the apiserver's message shape."""
    prefix = f'{plural} "{name}" is forbidden' if name else f"{plural} is forbidden"
    return ApiError(403, "Forbidden", f"{prefix}: {detail}", _details(name, plural))


def method_not_allowed() -> ApiError:
    """405 for a verb the resource does not support."""
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    {})


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    """415 for a PATCH/POST body in a format we cannot decode."""
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: " + ", ".join(accepted), {})


def gone(message: str) -> ApiError:
    """410 Expired (too old resourceVersion / continue token)."""
    return ApiError(410, "Expired", message, {})


def unauthorized() -> ApiError:
    """401 for a missing or wrong bearer token."""
    return ApiError(401, "Unauthorized", "Unauthorized", {})


def internal(message: str) -> ApiError:
    """500 InternalError."""
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


# Status codes the fault injector may produce, mapped to their apimachinery reasons
# and default messages.
FAULT_REASONS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "bad request"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("NotFound", "the server could not find the requested resource"),
    409: ("Conflict", "Operation cannot be fulfilled: the object has been modified; please "
                      "apply your changes to the latest version and try again"),
    410: ("Expired", "too old resource version"),
    422: ("Invalid", "invalid"),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault"),
    502: ("InternalError", "Bad Gateway"),
    503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
    504: ("Timeout", "Timeout: request did not complete within requested timeout - context "
                     "deadline exceeded"),
}


def injected(code: int, message: str | None = None, reason: str | None = None,
             retry_after: float | None = None) -> ApiError:
    """An error produced by fault injection (429/5xx/...), optionally with Retry-After."""
    default_reason, default_message = FAULT_REASONS.get(code, ("Unknown", f"HTTP {code}"))
    details: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if retry_after is not None:
        seconds = max(0, int(round(retry_after)))
        details["retryAfterSeconds"] = seconds
        headers["Retry-After"] = str(seconds)
    return ApiError(code, reason or default_reason, message or default_message, details or None,
                    headers)


# -- field errors (422 Invalid) ----------------------------------------------------

_CAUSE_REASONS = {
    "Invalid": "FieldValueInvalid",
    "Required": "FieldValueRequired",
    "Duplicate": "FieldValueDuplicate",
    "NotSupported": "FieldValueNotSupported",
    "Forbidden": "FieldValueForbidden",
    "TooLong": "FieldValueTooLong",
    "NotFound": "FieldValueNotFound",
}


def _go_repr(value: Any) -> str:
    # apimachinery prints strings quoted and numbers bare.
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)


@dataclass
class FieldError:
    """One entry of a 422 Invalid response (``field.Error`` in apimachinery)."""

    type: str
    field: str
    value: Any = None
    detail: str = ""
    supported: list[str] = field(default_factory=list)

    def body(self) -> str:
        """The message without the leading field path."""
        if self.type == "Invalid":
            text = f"Invalid value: {_go_repr(self.value)}"
        elif self.type == "Required":
            text = "Required value"
        elif self.type == "Duplicate":
            text = f"Duplicate value: {_go_repr(self.value)}"
        elif self.type == "NotSupported":
            text = f"Unsupported value: {_go_repr(self.value)}"
            if self.supported:
                text += ": supported values: " + ", ".join(json.dumps(s) for s in self.supported)
        elif self.type == "NotFound":
            text = f"Not found: {_go_repr(self.value)}"
        elif self.type == "TooLong":
            text = "Too long"
        else:
            text = self.type
        if self.detail:
            text += f": {self.detail}"
        return text

    def message(self) -> str:
        """``field: body`` as printed in the aggregate message."""
        return f"{self.field}: {self.body()}" if self.field else self.body()


def invalid(kind: str, name: str, errors: list[FieldError], group: str = "") -> ApiError:
    """422 Invalid with ``causes`` (``errors.NewInvalid``)."""
    messages = [e.message() for e in errors]
    joined = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
    causes = [{"reason": _CAUSE_REASONS.get(e.type, "FieldValueInvalid"), "message": e.body(),
               "field": e.field} for e in errors]
    details = {"name": name, "group": group, "kind": kind, "causes": causes} if group else \
        {"name": name, "kind": kind, "causes": causes}
    return ApiError(422, "Invalid", f'{_qualified(kind, group)} "{name}" is invalid: {joined}',
                    details)
