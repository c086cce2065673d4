"""Per-resource behaviour hooks (the apiserver's ``RESTCreateStrategy`` & friends).

:class:`Strategy` is the default (ConfigMap-like) behaviour; resource modules
subclass it.  Hooks receive plain dicts and the owning :class:`Cluster`, and
report validation problems as :class:`FieldError` lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import names
from .errors import FieldError
from .resources import Resource
from .tables import age_cell

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

ANNOTATIONS_LIMIT = 256 * 1024


def validate_metadata(meta: dict, name_check=names.dns1123_subdomain) -> list[FieldError]:
    """Name, labels and annotations checks shared by every resource."""
    errors: list[FieldError] = []
    name = meta.get("name")
    if name:
        for problem in name_check(name):
            errors.append(FieldError("Invalid", "metadata.name", name, problem))
    for key, value in (meta.get("labels") or {}).items():
        for problem in names.qualified_name(key):
            errors.append(FieldError("Invalid", "metadata.labels", key, problem))
        if not isinstance(value, str):
            errors.append(FieldError("Invalid", "metadata.labels", value, "must be a string"))
            continue
        for problem in names.label_value(value):
            errors.append(FieldError("Invalid", "metadata.labels", value, problem))
    annotations = meta.get("annotations") or {}
    total = 0
    for key, value in annotations.items():
        for problem in names.qualified_name(key.lower()):
            errors.append(FieldError("Invalid", "metadata.annotations", key, problem))
        total += len(key) + len(str(value))
    if total > ANNOTATIONS_LIMIT:
        errors.append(FieldError("TooLong", "metadata.annotations", None,
                                 f"may not be more than {ANNOTATIONS_LIMIT} bytes"))
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        for key in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(key):
                errors.append(FieldError("Required", f"metadata.ownerReferences[{i}].{key}"))
    return errors


class Strategy:
    """Default behaviour: no defaults, metadata validation, immediate delete."""

    name_check = staticmethod(names.dns1123_subdomain)
    # Fields, other than metadata, that PUT/PATCH on the main endpoint may not touch.
    status_field = "status"

    def __init__(self, resource: Resource):
        self.resource = resource

    # -- create ---------------------------------------------------------------
    def prepare_create(self, cluster: "Cluster", obj: dict) -> None:
        """Apply defaults and reset server-owned fields before validation."""

    def validate(self, cluster: "Cluster", obj: dict) -> list[FieldError]:
        """Validation shared by create and update."""
        return validate_metadata(obj["metadata"], self.name_check)

    def validate_create(self, cluster: "Cluster", obj: dict) -> list[FieldError]:
        """Checks that only apply on create (allocation conflicts etc.)."""
        return []

    def rollback_create(self, cluster: "Cluster", obj: dict) -> None:
        """Undo allocations made by :meth:`validate_create` (dry runs)."""

    def after_create(self, cluster: "Cluster", obj: dict) -> None:
        """React to a persisted create (start the kubelet, bind the PVC...)."""

    # -- update ---------------------------------------------------------------
    def prepare_update(self, cluster: "Cluster", new: dict, old: dict, subresource: str) -> None:
        """Carry over fields a write to this endpoint may not change."""
        if self.resource.has_status:
            if subresource == "status":
                for key in list(new):
                    if key not in ("metadata", "status"):
                        new.pop(key)
                for key, value in old.items():
                    if key not in ("metadata", "status"):
                        new[key] = value
            elif "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)

    def validate_update(self, cluster: "Cluster", new: dict, old: dict) -> list[FieldError]:
        """Immutability checks."""
        return []

    def after_update(self, cluster: "Cluster", new: dict, old: dict) -> None:
        """React to a persisted update."""

    def spec_changed(self, new: dict, old: dict) -> bool:
        """Whether ``metadata.generation`` should be bumped."""
        return new.get("spec") != old.get("spec")

    # -- delete ---------------------------------------------------------------
    def grace_period(self, cluster: "Cluster", obj: dict, requested: int | None) -> int | None:
        """Seconds of graceful deletion, or ``None`` for immediate removal."""
        return None

    def deferred_delete(self, obj: dict) -> bool:
        """Whether DELETE only marks the object Terminating (namespaces)."""
        return False

    def after_delete(self, cluster: "Cluster", obj: dict) -> None:
        """React to final removal (release IPs, wake the scheduler...)."""

    def table(self, cluster: "Cluster", obj: dict) -> tuple[list[dict], list[Any]]:
        """Server-side printing columns and cells for ``kubectl get`` (name + age)."""
        return ([{"name": "Name", "type": "string", "format": "name", "priority": 0},
                 {"name": "Age", "type": "string", "priority": 0}],
                [obj["metadata"]["name"], age_cell(cluster, obj)])
