"""RBAC objects from manifests: what ``--rbac-file`` loads (e.g. a kustomize rendering)."""

from __future__ import annotations

import yaml

from .. import api
from ..errors import ApiError
from ..resources import RESOURCES
from .policy import KINDS


def documents(text: str) -> list[dict]:
    """Every object of a multi-document YAML (``List`` objects flattened)."""
    items: list[dict] = []
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict):
            continue
        items.extend(doc.get("items") or [] if doc.get("kind") == "List" else [doc])
    return items


def rbac_objects(objects: list[dict]) -> list[dict]:
    """The Roles, ClusterRoles, bindings and ServiceAccounts among ``objects``."""
    return [obj for obj in objects if obj.get("kind") in KINDS]


def load_file(cluster, path: str) -> list[dict]:
    """Load a file's RBAC objects into ``cluster.access`` and create its Namespaces."""
    with open(path, encoding="utf-8") as fh:
        objects = documents(fh.read())
    for ns in (o for o in objects if o.get("kind") == "Namespace"):
        meta = ns.get("metadata") or {}
        try:
            api.create(cluster, RESOURCES["namespaces"], "",
                       {"metadata": {"name": meta.get("name"), "labels": meta.get("labels") or {}}})
        except ApiError as err:
            if err.code != 409:
                raise
    return cluster.access.apply(rbac_objects(objects))
