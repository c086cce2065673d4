"""Namespaces: Active/Terminating, the namespace controller, protected namespaces."""

from __future__ import annotations

from .. import api, names
from ..errors import ApiError, forbidden
from ..resources import RESOURCES
from ..strategy import Strategy
from ..tables import age_cell, column

PROTECTED = ("default", "kube-system", "kube-public")
SWEEP_SECONDS = 1.0


class NamespaceStrategy(Strategy):
    """Namespace semantics (``pkg/registry/core/namespace``)."""

    name_check = staticmethod(names.dns1123_label)

    def prepare_create(self, cluster, obj):
        meta = obj["metadata"]
        # The apiserver labels every namespace with its own name.
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}

    def prepare_update(self, cluster, new, old, subresource):
        super().prepare_update(cluster, new, old, subresource)
        new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
            new["metadata"]["name"]
        if subresource != "finalize":
            new["spec"] = old.get("spec", {})

    def grace_period(self, cluster, obj, requested):
        name = obj["metadata"]["name"]
        if name in PROTECTED:
            raise forbidden("namespaces", name, "this namespace may not be deleted")
        return None

    def deferred_delete(self, obj) -> bool:
        # Deleting a namespace only marks it Terminating; the controller finishes.
        return True

    def table(self, cluster, obj):
        return ([column("Name", fmt="name"), column("Status"), column("Age")],
                [obj["metadata"]["name"], (obj.get("status") or {}).get("phase", ""),
                 age_cell(cluster, obj)])


def start_termination(cluster, obj: dict) -> None:
    """Mark the namespace Terminating and start the namespace controller."""
    obj["status"] = {"phase": "Terminating"}
    cluster.persist(RESOURCES["namespaces"], obj)
    name = obj["metadata"]["name"]
    cluster.clock.call_later(0, lambda: sweep(cluster, name))


def sweep(cluster, name: str) -> None:
    """Delete everything in a terminating namespace, then the namespace itself."""
    stored = cluster.store.get("namespaces", "", name)
    if stored is None:
        return
    remaining = 0
    for resource in RESOURCES.values():
        if not resource.namespaced:
            continue
        for item in list(cluster.store.iter(resource.plural, name)):
            remaining += 1
            meta = item.obj()["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            try:
                api.delete(cluster, resource, name, item.name, {})
            except ApiError:
                pass
    if remaining:
        cluster.clock.call_later(SWEEP_SECONDS, lambda: sweep(cluster, name))
        return
    ns = stored.obj()
    ns["spec"] = {"finalizers": []}
    cluster.remove(RESOURCES["namespaces"], ns)
