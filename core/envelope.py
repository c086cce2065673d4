"""The wire envelope: the one renderer and the one exception handler of the API.

Every JSON response under the API has the shape upstream Tapis uses::

    {"result": ..., "status": "success" | "error", "message": str, "version": str, "metadata": {}}

with ``Content-Type: application/json`` and no charset suffix: tapipy only parses bodies whose
content type is exactly that. Views return plain data (or an :class:`Envelope` to choose the
message and metadata); errors are raised as exceptions and shaped here.
"""
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.errors import DomainError, InvalidInput

logger = logging.getLogger(__name__)

SUCCESS_MESSAGE = "The request was successful."
SERVER_ERROR_MESSAGE = "The server hit an unexpected error; it has been logged."


@dataclass
class Envelope:
    """A successful result with an explicit message and metadata."""

    result: Any
    message: str = SUCCESS_MESSAGE
    metadata: dict = field(default_factory=dict)
    status: str = "success"
    # Encode with orjson: one pass straight to bytes, several times faster than the stdlib on
    # large lists. Only for results made of JSON's own types (str, int, float, bool, None,
    # list, dict with str keys) and ``orjson.Fragment`` (pre-encoded JSON text).
    orjson: bool = False


def no_changes_message(kind: str) -> str:
    """Upstream's words for an update that changes nothing (``kind``: pod, template, image...)."""
    return f"Incoming data made no changes to {kind}. Is incoming data equal to current data?"


def envelope_dict(result=None, *, status_word="success", message=SUCCESS_MESSAGE, metadata=None):
    """Build the envelope as a dict, in upstream's key order."""
    return {
        "result": result,
        "status": status_word,
        "version": settings.PODS_VERSION,
        "message": message,
        "metadata": metadata or {},
    }


def ok(result, message=SUCCESS_MESSAGE, metadata=None, http_status=status.HTTP_200_OK, *, fast_json=False):
    """A success response with a message of the view's choosing (``fast_json``: see ``Envelope.orjson``)."""
    return Response(Envelope(result, message, metadata or {}, orjson=fast_json), status=http_status)


class EnvelopeRenderer(JSONRenderer):
    """Wrap whatever a view returned in the envelope.

    Error responses are produced by :func:`exception_handler`, which already hands over
    ``{"message", "metadata"}``; anything else at status >= 400 is wrapped defensively.
    """

    media_type = "application/json"
    charset = None  # tapipy ignores bodies whose content type carries a charset

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        code = response.status_code if response is not None else 200
        if isinstance(data, Envelope):
            body = envelope_dict(data.result, status_word=data.status, message=data.message,
                                 metadata=data.metadata)
            if data.orjson and self.get_indent(accepted_media_type, renderer_context or {}) is None:
                return orjson.dumps(body)
        elif code >= 400:
            if isinstance(data, dict) and "message" in data:
                body = envelope_dict(data.get("result"), status_word="error", message=data["message"],
                                     metadata=data.get("metadata"))
            else:
                body = envelope_dict(None, status_word="error", message=_flatten_message(data))
        else:
            body = envelope_dict(data)
        return super().render(body, accepted_media_type, renderer_context)


def _flatten(detail, prefix=""):
    """Yield ``(field_path, message)`` pairs from a DRF error detail of any nesting."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            yield from _flatten(value, path)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            for item in detail:
                yield prefix, str(item)
        else:
            for index, item in enumerate(detail):
                yield from _flatten(item, f"{prefix}[{index}]" if prefix else f"[{index}]")
    elif detail is not None:
        yield prefix, str(detail)


def _flatten_message(detail):
    parts = [f"{path}: {msg}" if path else msg for path, msg in _flatten(detail)]
    return "; ".join(parts) if parts else "Invalid request."


def validation_messages(detail) -> list[str]:
    """``["<field>: <problem>", ...]``: how upstream's ``error_handler`` words invalid input (its
    clients read ``message`` as that list)."""
    return [f"{path}: {msg}" if path else msg for path, msg in _flatten(detail)] or ["Invalid request."]


def validation_payload(detail):
    """``message``: one ``"<field>: <problem>"`` string per problem (a list, as upstream); the
    same per field in ``metadata.errors``."""
    errors = {}
    for path, msg in _flatten(detail):
        errors.setdefault(path or "request", []).append(msg)
    return {"message": validation_messages(detail), "metadata": {"errors": errors}}


def unsupported_media_payload(request, view) -> dict:
    """A body the JSON parser never read (no or another ``Content-Type``): 400, naming the header,
    as upstream (its clients look for ``Content-Type: application/json`` in the message list)."""
    accepted = [parser.media_type for parser in getattr(view, "parser_classes", ())] or ["application/json"]
    got = (getattr(request, "content_type", "") or "").split(";")[0].strip() or "none"
    wanted = " or ".join(f"Content-Type: {media}" for media in accepted)
    message = f"Content-Type: the request body must be sent with {wanted} (got {got!r})."
    return {"message": [message], "metadata": {"errors": {"Content-Type": [message]}}}


def exception_handler(exc, context):
    """Map every exception raised by an API view to an envelope response.

    Domain errors (:mod:`core.errors`) and DRF's own errors keep their status code. Anything
    else is a bug: logged with its traceback and answered with a 500 that reveals no internals
    unless DEBUG is on.
    """
    if isinstance(exc, (OperationalError, InterfaceError)):
        return database_unavailable_response(exc, context)
    if isinstance(exc, InvalidInput):
        return Response(validation_payload(exc.errors), status=exc.http_status)
    if isinstance(exc, DomainError):
        return Response({"message": exc.message, "metadata": exc.metadata}, status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        return Response({"message": f"The request body is larger than this service accepts "
                                    f"({settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)."}, status=413)
    if isinstance(exc, TooManyFieldsSent):
        return Response({"message": "The request has too many fields."}, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ValidationError):
            payload = validation_payload(exc.detail)
        elif isinstance(exc, exceptions.UnsupportedMediaType):
            payload = unsupported_media_payload(context.get("request"), context.get("view"))
            return Response(payload, status=status.HTTP_400_BAD_REQUEST, headers=headers)
        else:
            payload = {"message": _flatten_message(exc.detail),
                       "metadata": getattr(exc, "metadata", None) or {}}
        return Response(payload, status=exc.status_code, headers=headers)

    view = context.get("view")
    logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
    message = SERVER_ERROR_MESSAGE
    if settings.DEBUG:
        message = f"{SERVER_ERROR_MESSAGE} {type(exc).__name__}: {exc}"
    return Response({"message": message}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


DATABASE_UNAVAILABLE_MESSAGE = "The database is not answering right now; nothing was changed. Try again shortly."
RETRY_AFTER_SECONDS = 5


def database_unavailable_response(exc, context=None):
    """503 in the envelope (with Retry-After) for a database that cannot be reached.

    ``OperationalError`` and ``InterfaceError`` are what the driver raises for a refused, dropped
    or terminated connection; they say nothing about the request, so they are never a 500. The
    request's transaction, if any, was rolled back: nothing is half-written.
    """
    view = (context or {}).get("view")
    logger.warning("database unavailable in %s: %s: %s", type(view).__name__ if view else "a request",
                   type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return Response({"message": DATABASE_UNAVAILABLE_MESSAGE, "metadata": {"dependency": "database"}},
                    status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def json_error_response(http_status, message, metadata=None):
    """An envelope error for code paths outside DRF (Django's 404/500 handlers)."""
    body = envelope_dict(None, status_word="error", message=message, metadata=metadata)
    return HttpResponse(json.dumps(body), status=http_status, content_type="application/json")
