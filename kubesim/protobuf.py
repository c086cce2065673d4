"""Decode the protobuf request bodies kubectl's typed clients send.

``kubectl create namespace|secret|configmap|service`` use client-go typed
clients, which send ``application/vnd.kubernetes.protobuf`` (while accepting
JSON back).  The envelope is the magic ``k8s\\x00`` followed by a
``runtime.Unknown`` message whose ``raw`` field holds the object.  Only the
fields of the kinds below are decoded (field numbers from k8s.io/api
``generated.proto``, which never change); other kinds get 415.
"""

from __future__ import annotations

import base64

from .errors import bad_request

MAGIC = b"k8s\x00"

# message -> {field number: (json name, type, repeated)}; types are scalars
# ("string", "bytes", "int", "bool"), maps ("map:string", "map:bytes") or a
# message name.
SCHEMA: dict[str, dict[int, tuple[str, str, bool]]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta", False), 2: ("raw", "raw", False),
                3: ("contentEncoding", "string", False), 4: ("contentType", "string", False)},
    "TypeMeta": {1: ("apiVersion", "string", False), 2: ("kind", "string", False)},
    "ObjectMeta": {1: ("name", "string", False), 2: ("generateName", "string", False),
                   3: ("namespace", "string", False), 5: ("uid", "string", False),
                   6: ("resourceVersion", "string", False), 11: ("labels", "map:string", False),
                   12: ("annotations", "map:string", False),
                   13: ("ownerReferences", "OwnerReference", True),
                   14: ("finalizers", "string", True)},
    "OwnerReference": {1: ("kind", "string", False), 3: ("name", "string", False),
                       4: ("uid", "string", False), 5: ("apiVersion", "string", False),
                       6: ("controller", "bool", False),
                       7: ("blockOwnerDeletion", "bool", False)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False)},
    "NamespaceSpec": {1: ("finalizers", "string", True)},
    "Secret": {1: ("metadata", "ObjectMeta", False), 2: ("data", "map:bytes", False),
               3: ("type", "string", False), 4: ("stringData", "map:string", False),
               5: ("immutable", "bool", False)},
    "ConfigMap": {1: ("metadata", "ObjectMeta", False), 2: ("data", "map:string", False),
                  3: ("binaryData", "map:bytes", False), 4: ("immutable", "bool", False)},
    "Service": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ServiceSpec", False)},
    "ServiceSpec": {1: ("ports", "ServicePort", True), 2: ("selector", "map:string", False),
                    3: ("clusterIP", "string", False), 4: ("type", "string", False),
                    5: ("externalIPs", "string", True), 7: ("sessionAffinity", "string", False),
                    10: ("externalName", "string", False),
                    11: ("externalTrafficPolicy", "string", False),
                    17: ("ipFamilyPolicy", "string", False), 18: ("clusterIPs", "string", True),
                    19: ("ipFamilies", "string", True),
                    22: ("internalTrafficPolicy", "string", False)},
    "ServicePort": {1: ("name", "string", False), 2: ("protocol", "string", False),
                    3: ("port", "int", False), 4: ("targetPort", "IntOrString", False),
                    5: ("nodePort", "int", False), 6: ("appProtocol", "string", False)},
    "IntOrString": {1: ("type", "int", False), 2: ("intVal", "int", False),
                    3: ("strVal", "string", False)},
}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, value


def _scalar(kind: str, value):
    if kind == "string":
        return value.decode()
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    return value


def decode_message(name: str, data: bytes) -> dict:
    """Decode ``data`` as message ``name`` of :data:`SCHEMA` into a JSON-like dict."""
    schema = SCHEMA[name]
    out: dict = {}
    for number, value in _fields(data):
        if number not in schema:
            continue  # fields kubesim does not model
        field, kind, repeated = schema[number]
        if kind.startswith("map:"):
            entry = dict(_fields(value))
            out.setdefault(field, {})[entry.get(1, b"").decode()] = \
                _scalar(kind[4:], entry.get(2, b""))
            continue
        item = decode_message(kind, value) if kind in SCHEMA else _scalar(kind, value)
        if not repeated and item in ("", 0, False) and kind not in SCHEMA:
            continue  # Go zero values mean "unset" (they are omitted from JSON)
        if kind == "IntOrString":
            item = item.get("strVal", "") if item.get("type") == 1 else item.get("intVal", 0)
        if repeated:
            out.setdefault(field, []).append(item)
        else:
            out[field] = item
    return out


def decode_object(body: bytes) -> dict:
    """Decode a ``k8s\\x00``-prefixed ``runtime.Unknown`` into an object dict."""
    if not body.startswith(MAGIC):
        raise bad_request("provided data does not appear to be a protobuf message, expected "
                          "prefix [107 56 115 0]")
    try:
        unknown = decode_message("Unknown", body[len(MAGIC):])
        type_meta = unknown.get("typeMeta") or {}
        kind = type_meta.get("kind", "")
        if kind not in SCHEMA or kind in ("Unknown", "TypeMeta", "ObjectMeta"):
            raise LookupError(kind)
        obj = decode_message(kind, unknown.get("raw", b""))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"unable to decode protobuf body: {exc}") from None
    return {"kind": kind, "apiVersion": type_meta.get("apiVersion", "v1"), **obj}
