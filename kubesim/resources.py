"""Static description of the resources kubesim serves (core/v1 and a few API groups).

Each :class:`Resource` names its kind, plural, scope, verbs, and the fields the
apiserver lets you select on (``GetAttrs`` / field-label conversion funcs).
Selectable field values are stored per object as a tuple in ``fields`` order.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list", "watch")


def _s(value) -> str:
    # Field selectors compare strings; bools print as Go does.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return sys.intern(str(value)) if isinstance(value, str) and len(value) < 40 else str(value)


def _meta(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return _s(meta.get("name")), _s(meta.get("namespace"))


def _pod_fields(obj: dict) -> tuple:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pod_ips = ",".join(ip.get("ip", "") for ip in status.get("podIPs") or [])
    return _meta(obj) + (
        _s(spec.get("nodeName")), _s(spec.get("restartPolicy")), _s(spec.get("schedulerName")),
        _s(spec.get("serviceAccountName")), _s(bool(spec.get("hostNetwork"))),
        _s(status.get("phase")), _s(status.get("podIP")), pod_ips,
        _s(status.get("nominatedNodeName")))


def _event_fields(obj: dict) -> tuple:
    inv = obj.get("involvedObject") or {}
    src = obj.get("source") or {}
    return _meta(obj) + (
        _s(inv.get("kind")), _s(inv.get("namespace")), _s(inv.get("name")), _s(inv.get("uid")),
        _s(inv.get("apiVersion")), _s(inv.get("resourceVersion")), _s(inv.get("fieldPath")),
        _s(obj.get("reason")), _s(obj.get("reportingComponent")), _s(src.get("component")),
        _s(obj.get("type")))


def _secret_fields(obj: dict) -> tuple:
    return _meta(obj) + (_s(obj.get("type")),)


def _namespace_fields(obj: dict) -> tuple:
    return _meta(obj) + (_s((obj.get("status") or {}).get("phase")),)


def _node_fields(obj: dict) -> tuple:
    return _meta(obj) + (_s(bool((obj.get("spec") or {}).get("unschedulable"))),)


def _meta_fields(obj: dict) -> tuple:
    return _meta(obj)


@dataclass(frozen=True)
class Resource:
    """One API resource (plural) of core/v1 or of a named group (``group``/``version``)."""

    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()
    field_names: tuple[str, ...] = ("metadata.name", "metadata.namespace")
    extract: Callable[[dict], tuple] = _meta_fields
    # Kinds with a status subresource ignore ``status`` on main-endpoint writes.
    has_status: bool = False
    # DELETE answers with the object (services, pods) instead of a Status.
    delete_returns_object: bool = False
    categories: tuple[str, ...] = ()
    singular: str = ""
    group: str = ""
    version: str = "v1"
    field_index: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        self.field_index.update({name: i for i, name in enumerate(self.field_names)})
        # Field selectors also accept the short aliases the apiserver converts.
        if "source.component" in self.field_index:
            self.field_index["source"] = self.field_index["source.component"]

    @property
    def list_kind(self) -> str:
        """``PodList`` etc."""
        return self.kind + "List"

    @property
    def api_version(self) -> str:
        """``v1`` or ``networking.k8s.io/v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """Resource name in messages: ``pods``, ``networkpolicies.networking.k8s.io``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """Kind in messages: ``Pod``, ``NetworkPolicy.networking.k8s.io``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


_META = ("metadata.name", "metadata.namespace")

RESOURCES: dict[str, Resource] = {r.plural: r for r in (
    Resource("pods", "Pod", short_names=("po",), subresources=("status", "log", "exec"),
             field_names=_META + ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                  "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                                  "status.podIP", "status.podIPs", "status.nominatedNodeName"),
             extract=_pod_fields, has_status=True, delete_returns_object=True,
             categories=("all",), singular="pod"),
    Resource("services", "Service", short_names=("svc",), subresources=("status",),
             has_status=True, delete_returns_object=True, categories=("all",),
             singular="service", verbs=tuple(v for v in ALL_VERBS)),
    Resource("persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",),
             subresources=("status",), has_status=True, delete_returns_object=True,
             singular="persistentvolumeclaim"),
    Resource("secrets", "Secret", field_names=_META + ("type",), extract=_secret_fields,
             singular="secret"),
    Resource("configmaps", "ConfigMap", short_names=("cm",), singular="configmap"),
    Resource("events", "Event", short_names=("ev",),
             field_names=_META + ("involvedObject.kind", "involvedObject.namespace",
                                  "involvedObject.name", "involvedObject.uid",
                                  "involvedObject.apiVersion", "involvedObject.resourceVersion",
                                  "involvedObject.fieldPath", "reason", "reportingComponent",
                                  "source.component", "type"),
             extract=_event_fields, singular="event"),
    Resource("namespaces", "Namespace", namespaced=False, short_names=("ns",),
             verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
             subresources=("status", "finalize"), field_names=_META + ("status.phase",),
             extract=_namespace_fields, has_status=True, delete_returns_object=True,
             singular="namespace"),
    Resource("nodes", "Node", namespaced=False, short_names=("no",), verbs=READ_VERBS,
             subresources=("status",), field_names=_META + ("spec.unschedulable",),
             extract=_node_fields, has_status=True, delete_returns_object=True,
             singular="node"),
)}

NETWORKING = "networking.k8s.io"
RESOURCES["networkpolicies"] = Resource(
    "networkpolicies", "NetworkPolicy", short_names=("netpol",), singular="networkpolicy",
    group=NETWORKING)

KIND_TO_RESOURCE = {r.kind: r for r in RESOURCES.values()}
GROUPS = {NETWORKING: ("v1",)}


def in_group(group: str, version: str = "v1") -> list[Resource]:
    """Resources of one group version (``""`` is the core group)."""
    return [r for r in RESOURCES.values() if r.group == group and r.version == version]


def get_resource(plural: str) -> Resource | None:
    """Look up a resource by its plural name (``pods``)."""
    return RESOURCES.get(plural)
