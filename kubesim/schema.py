"""Unknown-field handling (``fieldValidation``) using the ``kubernetes`` client's models.

A real apiserver decodes built-in kinds into Go structs, so fields it does not
know are never stored.  What the client hears depends on ``fieldValidation``:

* ``Strict`` - 400 ``strict decoding error: unknown field "spec.foo"``;
* ``Warn`` (the default) - dropped, with a ``Warning: 299`` response header;
* ``Ignore`` - dropped silently.

The field names come from the OpenAPI-generated pydantic models of the
``kubernetes`` package (a superset of what kubesim simulates).  They are
imported lazily, on the first write.
"""

from __future__ import annotations

import functools
import importlib
import typing
from typing import Any

from .errors import bad_request

MODELS = {"Pod": "v1_pod.V1Pod", "Service": "v1_service.V1Service",
          "PersistentVolumeClaim": "v1_persistent_volume_claim.V1PersistentVolumeClaim",
          "Secret": "v1_secret.V1Secret", "ConfigMap": "v1_config_map.V1ConfigMap",
          "Event": "core_v1_event.CoreV1Event", "Namespace": "v1_namespace.V1Namespace",
          "Node": "v1_node.V1Node", "NetworkPolicy": "v1_network_policy.V1NetworkPolicy"}


def _model(kind: str):
    module, _, name = MODELS[kind].partition(".")
    try:
        return getattr(importlib.import_module(f"kubernetes.client.models.{module}"), name)
    except ImportError:  # kubesim works without the kubernetes package; no pruning then
        return None


@functools.lru_cache(maxsize=None)
def _fields(model) -> dict[str, Any]:
    fields = {}
    for name, info in model.model_fields.items():
        fields[info.serialization_alias or info.alias or name] = info.annotation
    return fields


def _shape(annotation) -> tuple[str, Any]:
    """Classify an annotation as ("model", cls), ("list", item), ("dict", value) or leaf."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _shape(args[0])
        return ("leaf", None)
    if origin is typing.Annotated:
        return _shape(typing.get_args(annotation)[0])
    if origin in (list, typing.List):
        return ("list", typing.get_args(annotation)[0])
    if origin in (dict, typing.Dict):
        return ("dict", typing.get_args(annotation)[1])
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return ("model", annotation)
    return ("leaf", None)


def _walk(value: Any, annotation, path: str, unknown: list[str]) -> None:
    kind, inner = _shape(annotation)
    if kind == "model" and isinstance(value, dict):
        known = _fields(inner)
        for key in list(value):
            sub = f"{path}.{key}" if path else key
            if key not in known:
                unknown.append(sub)
                del value[key]
                continue
            _walk(value[key], known[key], sub, unknown)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, inner, f"{path}[{i}]", unknown)
    elif kind == "dict" and isinstance(value, dict):
        for key, item in value.items():
            _walk(item, inner, f"{path}[{key}]", unknown)


def prune_unknown(kind: str, obj: dict, mode: str, warnings: list[str] | None) -> None:
    """Drop fields unknown to ``kind`` from ``obj`` (in place), honouring ``mode``."""
    if kind not in MODELS:
        return
    model = _model(kind)
    if model is None:
        return
    unknown: list[str] = []
    _walk(obj, model, "", unknown)
    if not unknown:
        return
    if mode == "Strict":
        detail = ", ".join(f'unknown field "{field}"' for field in unknown)
        raise bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: strict '
                          f"decoding error: {detail}")
    if mode != "Ignore" and warnings is not None:
        warnings.extend(f'unknown field "{field}"' for field in unknown)
