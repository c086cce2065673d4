"""PATCH bodies: RFC 6902 JSON patch, RFC 7386 merge patch, strategic merge patch.

Strategic merge knows the patch-merge keys of the core/v1 fields this project
touches (containers by ``name``, ports by ``containerPort``, conditions by
``type``, ...); lists without a merge key are replaced wholesale, as with a
merge patch.  Supported directives: ``$patch: replace|delete|merge``,
``$deleteFromPrimitiveList/<field>``, ``$setElementOrder/<field>`` and
``$retainKeys``.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError, bad_request

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH]

# Field name -> merge key, for lists merged by key under strategic merge.  The
# same field name means the same thing wherever it appears in core/v1 objects we
# serve; ``ports`` is special-cased (containers merge on containerPort, Services
# on port).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "conditions": "type", "ownerReferences": "uid",
    "hostAliases": "ip", "topologySpreadConstraints": "topologyKey", "podIPs": "ip",
    "hostIPs": "ip", "readinessGates": "conditionType", "resourceClaims": "name",
    "schedulingGates": "name", "containerStatuses": "name", "initContainerStatuses": "name",
}
# Primitive lists merged as sets.
MERGE_PRIMITIVE_LISTS = {"finalizers"}


def _invalid_patch(message: str) -> ApiError:
    return ApiError(422, "Invalid", message, {})


# -- JSON patch (RFC 6902) -----------------------------------------------------------

def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _invalid_patch(f"the server rejected our request due to an error in our request: "
                             f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    for part in parts:
        if isinstance(doc, dict):
            if part not in doc:
                raise _invalid_patch(f"the server rejected our request due to an error in our "
                                     f"request: doc is missing path: \"{path}\": missing value")
            doc = doc[part]
        elif isinstance(doc, list):
            doc = doc[_index(doc, part, path, allow_end=False)]
        else:
            raise _invalid_patch(f"doc is missing path: \"{path}\"")
    return doc


def _index(lst: list, part: str, path: str, allow_end: bool) -> int:
    if part == "-" and allow_end:
        return len(lst)
    if not part.isdigit():
        raise _invalid_patch(f"the server rejected our request due to an error in our request: "
                             f"invalid array index {part!r} in \"{path}\"")
    idx = int(part)
    if idx > len(lst) or (idx == len(lst) and not allow_end):
        raise _invalid_patch(f"the server rejected our request due to an error in our request: "
                             f"Unable to access invalid index: {idx}")
    return idx


def _add(doc: Any, parts: list[str], value: Any, path: str) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise _invalid_patch(f"doc is missing path: \"{path}\"")
    return doc


def _remove(doc: Any, parts: list[str], path: str) -> Any:
    if not parts:
        raise _invalid_patch("cannot remove the whole document")
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _invalid_patch(f"the server rejected our request due to an error in our "
                                 f"request: Unable to remove nonexistent key: {last}: missing "
                                 f"value")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, path, allow_end=False))
    raise _invalid_patch(f"doc is missing path: \"{path}\"")


def apply_json_patch(doc: dict, ops: Any) -> dict:
    """Apply an RFC 6902 operation list; failures are 422 like the apiserver."""
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise bad_request("the server rejected our request due to an error in our request: "
                              "missing 'op' in JSON patch operation")
        kind, path = op["op"], op.get("path", "")
        parts = _pointer(path)
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind == "remove":
            _remove(doc, parts, path)
        elif kind == "replace":
            _walk(doc, parts, path)  # must exist
            if parts:
                _remove(doc, parts, path)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind in ("move", "copy"):
            src = op.get("from", "")
            value = copy.deepcopy(_walk(doc, _pointer(src), src))
            if kind == "move":
                _remove(doc, _pointer(src), src)
            doc = _add(doc, parts, value, path)
        elif kind == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise _invalid_patch("the server rejected our request due to an error in our "
                                     f"request: testing value {path} failed: test failed")
        else:
            raise bad_request(f"the server rejected our request due to an error in our "
                              f"request: Unexpected kind: {kind}")
    if not isinstance(doc, dict):
        raise bad_request("the result of the JSON patch is not an object")
    return doc


# -- merge patch (RFC 7386) -----------------------------------------------------------

def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


# -- strategic merge patch ------------------------------------------------------------

def _merge_key(field: str, parent_path: tuple[str, ...]) -> str | None:
    if field == "ports":
        # Service spec.ports merge on port, container ports on containerPort.
        return "port" if parent_path[-1:] == ("spec",) else "containerPort"
    return MERGE_KEYS.get(field)


def apply_strategic_patch(target: Any, patch: Any, path: tuple[str, ...] = ()) -> Any:
    """Strategic merge ``patch`` into ``target`` (both JSON-like; returns a new value)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    result = dict(target)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            remove = set(value or [])
            result[field] = [v for v in result.get(field) or [] if v not in remove]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value, path)
        elif isinstance(value, dict):
            merged = apply_strategic_patch(result.get(key), value, path + (key,))
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = value
    for key in list(patch):
        if key.startswith("$setElementOrder/"):
            field = key.split("/", 1)[1]
            result[field] = _reorder(field, result.get(field), patch[key], path)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(field: str, current: Any, patch: list, path: tuple[str, ...]) -> list:
    current = current if isinstance(current, list) else []
    if field in MERGE_PRIMITIVE_LISTS:
        merged = list(current)
        merged.extend(v for v in patch if v not in merged)
        return merged
    key = _merge_key(field, path)
    if not key or not all(isinstance(item, dict) for item in patch):
        return copy.deepcopy(patch)
    if any(item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy({k: v for k, v in i.items() if k != "$patch"}) for i in patch
                if i.get("$patch") != "replace"]
    merged = [copy.deepcopy(item) for item in current]
    positions = {item.get(key): i for i, item in enumerate(merged) if isinstance(item, dict)}
    deleted: set = set()
    for item in patch:
        ident = item.get(key)
        if item.get("$patch") == "delete":
            deleted.add(ident)
            continue
        if ident in positions:
            idx = positions[ident]
            merged[idx] = apply_strategic_patch(merged[idx], item, path + (field,))
        else:
            positions[ident] = len(merged)
            merged.append(apply_strategic_patch({}, item, path + (field,)))
    return [item for item in merged if not (isinstance(item, dict) and item.get(key) in deleted)]


def _reorder(field: str, current: Any, order: Any, path: tuple[str, ...]) -> Any:
    if not isinstance(current, list) or not isinstance(order, list):
        return current
    key = _merge_key(field, path)
    if key is None:
        rank = {v: i for i, v in enumerate(order) if not isinstance(v, (dict, list))}
        return sorted(current, key=lambda v: rank.get(v, len(rank)))
    rank = {item.get(key): i for i, item in enumerate(order) if isinstance(item, dict)}
    return sorted(current, key=lambda v: rank.get(v.get(key) if isinstance(v, dict) else None,
                                                   len(rank)))


def apply_patch(content_type: str, current: dict, body: Any) -> dict:
    """Dispatch on the PATCH ``Content-Type``; returns the patched object."""
    if content_type == JSON_PATCH:
        return apply_json_patch(current, body)
    if not isinstance(body, dict):
        raise bad_request("json: cannot unmarshal array into Go value of type map[string]"
                          "interface {}")
    if content_type == MERGE_PATCH:
        return apply_merge_patch(current, body)
    if content_type in (STRATEGIC_PATCH, APPLY_PATCH):
        # Server-side apply is approximated by a strategic merge of the applied config
        # (kubesim does not track managedFields ownership).
        result = apply_strategic_patch(current, body)
        return result if isinstance(result, dict) else {}
    raise AssertionError(content_type)
