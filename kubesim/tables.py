"""Server-side printing (``meta.k8s.io/v1`` ``Table``) for ``kubectl get``.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io``; the
apiserver answers with column definitions and one row per object, each row
carrying the object's metadata (``includeObject=Metadata``, the default) or the
whole object.  Ages are computed on the virtual clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .clock import parse_time

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster


def human_duration(seconds: float) -> str:
    """``k8s.io/apimachinery/pkg/util/duration.HumanDuration``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def since(cluster: "Cluster", timestamp: str | None) -> str:
    """Age of an RFC 3339 timestamp on the virtual clock (``<unknown>`` if unset)."""
    if not timestamp:
        return "<unknown>"
    return human_duration(cluster.clock.now() - parse_time(timestamp))


def age_cell(cluster: "Cluster", obj: dict) -> str:
    """The ``Age`` column."""
    return since(cluster, obj["metadata"].get("creationTimestamp"))


def column(name: str, type_: str = "string", priority: int = 0, fmt: str = "",
           description: str = "") -> dict:
    """One ``TableColumnDefinition``."""
    return {"name": name, "type": type_, "format": fmt, "description": description,
            "priority": priority}


def partial_metadata(obj: dict) -> dict:
    """``PartialObjectMetadata`` for a row's ``object`` field."""
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"]}


def build_table(cluster: "Cluster", resource, objects: Iterable[dict], list_meta: dict,
                include_object: str = "Metadata") -> dict:
    """A ``Table`` for ``objects`` using the resource strategy's columns."""
    strategy = cluster.strategy(resource)
    columns: list[dict] = []
    rows = []
    for obj in objects:
        columns, cells = strategy.table(cluster, obj)
        row: dict = {"cells": cells}
        if include_object == "Object":
            row["object"] = {"kind": resource.kind, "apiVersion": resource.api_version, **obj}
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    if not columns:
        columns, _ = strategy.table(cluster, _placeholder(resource))
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": columns, "rows": rows}


def _placeholder(resource) -> dict:
    # Column definitions do not depend on the object; render them from an empty one.
    return {"metadata": {"name": "", "creationTimestamp": None}, "spec": {}, "status": {}}


def wants_table(accept: str) -> bool:
    """Whether the Accept header asks for server-side printing."""
    return "as=Table" in accept
