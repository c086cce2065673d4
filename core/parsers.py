"""The API's one JSON parser: bounded in size and depth, and free of NUL characters.

DRF's stock parser hands the body to ``json.loads`` whole: a body over the size limit reached
the view, ``[[[[...]]]]`` nested deeply enough raised ``RecursionError`` (a 500), and a ``\\u0000``
in a mount path or dictionary key went on to Postgres, which cannot store it (another 500). Here:

- a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``PODS_MAX_BODY_BYTES``) is a 413, refused
  from its ``Content-Length`` before anything is read, and never read past the limit otherwise;
- nesting deeper than :data:`MAX_DEPTH` is a 400 (no request of this API nests half as deep);
- a NUL character in any key or string is a 400 naming where it is;
- ``NaN`` and ``Infinity`` are not JSON (400), as DRF's strict mode already says.
"""
import json

from django.conf import settings
from rest_framework import exceptions, parsers, status

MAX_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def too_large() -> RequestTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return RequestTooLarge(f"The request body is larger than this service accepts ({limit} bytes).")


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON value")


def check_structure(data) -> None:
    """400 for nesting deeper than MAX_DEPTH or a NUL character anywhere (iterative: no recursion)."""
    stack = [(data, "request", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise exceptions.ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.")
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise exceptions.ValidationError({path: ["Null characters are not allowed in keys."]})
                stack.append((item, key if path == "request" else f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            raise exceptions.ValidationError({path: ["Null characters are not allowed."]})


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the limits above."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            if declared and limit is not None and int(declared) > limit:
                raise too_large()
        except ValueError:
            raise exceptions.ParseError("Content-Length is not a number.") from None
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise too_large()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError:
            raise exceptions.ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        check_structure(data)
        return data
