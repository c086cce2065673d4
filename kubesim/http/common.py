"""Request parsing and response helpers shared by the HTTP handlers."""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from aiohttp import web

from .. import errors
from ..errors import ApiError
from ..patch import PATCH_TYPES
from ..protobuf import decode_object

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
BODY_TYPES = [JSON, "application/yaml", PROTOBUF]


def json_response(obj: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    """``application/json`` response from a JSON-able object."""
    return web.Response(body=orjson.dumps(obj), status=status, content_type=JSON,
                        headers=headers)


def raw_response(body: bytes, status: int = 200) -> web.Response:
    """``application/json`` response from already-serialized bytes."""
    return web.Response(body=body, status=status, content_type=JSON)


def error_response(err: ApiError) -> web.Response:
    """The ``Status`` body for an :class:`ApiError`."""
    return json_response(err.status(), status=err.code, headers=err.headers or None)


def query_bool(request: web.Request, name: str) -> bool:
    """Boolean query parameter (``true``/``1``; Go's strconv.ParseBool)."""
    value = request.query.get(name)
    if value is None or value == "":
        return False
    if value.lower() in ("true", "1", "t"):
        return True
    if value.lower() in ("false", "0", "f"):
        return False
    raise errors.bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def query_int(request: web.Request, name: str) -> int | None:
    """Integer query parameter or ``None``."""
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


def dry_run(request: web.Request, body: dict | None = None) -> bool:
    """``dryRun=All`` from the query (or a DeleteOptions body)."""
    values = request.query.getall("dryRun", [])
    if body and isinstance(body.get("dryRun"), list):
        values = values + body["dryRun"]
    for value in values:
        if value != "All":
            raise errors.bad_request(f'dryRun: Unsupported value: "{value}": supported values: '
                                     f'"All"')
    return bool(values)


def media_type(request: web.Request) -> str:
    """Content-Type without parameters; missing means JSON (like kube-apiserver)."""
    header = request.headers.get("Content-Type", "")
    return header.split(";", 1)[0].strip().lower() or JSON


async def read_body(request: web.Request, patch: bool = False) -> Any:
    """Decode the request body according to its Content-Type."""
    ctype = media_type(request)
    raw = await request.read()
    if patch:
        if ctype not in PATCH_TYPES:
            raise errors.unsupported_media_type(ctype, PATCH_TYPES)
    elif ctype == PROTOBUF:
        # kubectl's typed clients (create namespace/secret/configmap/service) send protobuf.
        try:
            return decode_object(raw)
        except LookupError:
            raise errors.unsupported_media_type(ctype, BODY_TYPES[:2]) from None
    elif ctype not in (JSON, "application/yaml"):
        raise errors.unsupported_media_type(ctype, BODY_TYPES)
    if not raw.strip():
        if patch:
            raise errors.bad_request("the body of the request was empty")
        return None
    try:
        if ctype.endswith("yaml"):
            return yaml.safe_load(raw)
        return orjson.loads(raw)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
