"""Generic create / update / patch / delete semantics shared by every resource.

This is the part of kube-apiserver's generic registry (``registry/generic/
registry/store.go``) that clients observe: name generation, uid,
creationTimestamp, resourceVersion preconditions, status subresource rules,
no-op updates that do not bump the resourceVersion, finalizers, graceful
deletion and ``dryRun``.  All functions run on the event-loop thread.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from . import errors
from .clock import format_time
from .errors import FieldError
from .names import generate_name
from .patch import APPLY_PATCH, apply_patch
from .resources import Resource
from .schema import prune_unknown

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
               "generation", "selfLink")


def _with_kind(resource: Resource, obj: dict) -> dict:
    return {"kind": resource.kind, "apiVersion": resource.api_version, **obj}


def _check_body(resource: Resource, body: Any) -> dict:
    if not isinstance(body, dict):
        raise errors.bad_request(f"{resource.kind} in version \"v1\" cannot be handled as a "
                                 f"{resource.kind}: json: cannot unmarshal "
                                 f"{type(body).__name__} into Go value of type "
                                 f"struct {{ APIVersion string; Kind string }}")
    kind = body.get("kind")
    if kind and kind != resource.kind:
        raise errors.bad_request(f"the kind in the data ({kind}) does not match the expected "
                                 f"kind ({resource.kind})")
    api_version = body.get("apiVersion")
    if api_version and api_version != resource.api_version:
        raise errors.bad_request(f"the API version in the data ({api_version}) does not match "
                                 f"the expected API version ({resource.api_version})")
    meta = body.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise errors.bad_request(f"{resource.kind} in version \"v1\" cannot be handled as a "
                                 f"{resource.kind}: json: cannot unmarshal into Go struct field "
                                 f"{resource.kind}.metadata of type v1.ObjectMeta")
    for key in ("labels", "annotations"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, dict)
                                  or not all(isinstance(v, str) for v in value.values())):
            raise errors.bad_request(
                f"{resource.kind} in version \"v1\" cannot be handled as a {resource.kind}: "
                f"json: cannot unmarshal into Go struct field ObjectMeta.metadata.{key} of type "
                f"map[string]string")
    body.pop("kind", None)
    body.pop("apiVersion", None)
    return body


def _check_namespace(cluster: "Cluster", resource: Resource, ns: str, meta: dict,
                     creating: bool) -> None:
    if not resource.namespaced:
        meta.pop("namespace", None)
        return
    body_ns = meta.get("namespace")
    if body_ns and body_ns != ns:
        raise errors.bad_request("the namespace of the provided object does not match the "
                                 "namespace sent on the request")
    meta["namespace"] = ns
    if creating:
        stored_ns = cluster.store.get("namespaces", "", ns)
        if stored_ns is None:
            raise errors.not_found("namespaces", ns)
        if resource.plural != "events" and stored_ns.obj()["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(resource.qualified, meta.get("name", ""),
                                   f"unable to create new content in namespace {ns} because it "
                                   f"is being terminated")


def _raise_invalid(resource: Resource, name: str, problems: list[FieldError]) -> None:
    if problems:
        raise errors.invalid(resource.kind, name, problems, resource.group)


def create(cluster: "Cluster", resource: Resource, ns: str, body: Any,
           dry_run: bool = False, field_validation: str = "",
           warnings: list[str] | None = None) -> dict:
    """POST: validate, default, persist; returns the created object (with kind).

    Unknown fields are dropped (``warnings`` collects them) or rejected when
    ``field_validation`` is ``Strict``.
    """
    obj = _check_body(resource, body)
    prune_unknown(resource.kind, obj, field_validation, warnings)
    meta = obj["metadata"]
    _check_namespace(cluster, resource, ns, meta, creating=True)
    if meta.get("resourceVersion"):
        raise errors.bad_request("resourceVersion should not be set on objects to be created")
    strategy = cluster.strategy(resource)
    if not meta.get("name"):
        prefix = meta.get("generateName")
        if not prefix:
            raise errors.invalid(resource.kind, "", [FieldError(
                "Required", "metadata.name", detail="name or generateName is required")])
        for _ in range(8):
            meta["name"] = generate_name(prefix, cluster.rng)
            if cluster.store.get(resource.plural, meta.get("namespace", ""), meta["name"]) is None:
                break
    for key in SERVER_META:
        meta.pop(key, None)
    meta["uid"] = str(uuid.UUID(int=cluster.rng.getrandbits(128), version=4))
    meta["creationTimestamp"] = format_time(cluster.clock.now())
    if resource.plural in ("pods", "services", "networkpolicies"):
        meta["generation"] = 1
    strategy.prepare_create(cluster, obj)
    _raise_invalid(resource, meta["name"], strategy.validate(cluster, obj))
    if cluster.store.get(resource.plural, meta.get("namespace", ""), meta["name"]) is not None:
        raise errors.already_exists(resource.plural, meta["name"], resource.group)
    # validate_create may allocate (ClusterIPs); a dry run gives the allocation back.
    _raise_invalid(resource, meta["name"], strategy.validate_create(cluster, obj))
    if dry_run:
        strategy.rollback_create(cluster, obj)
        return _with_kind(resource, obj)
    cluster.persist(resource, obj)
    strategy.after_create(cluster, obj)
    return _with_kind(resource, obj)


def get(cluster: "Cluster", resource: Resource, ns: str, name: str) -> dict:
    """Decoded current object or 404."""
    stored = cluster.store.get(resource.plural, ns if resource.namespaced else "", name)
    if stored is None:
        raise errors.not_found(resource.plural, name, resource.group)
    return stored.obj()


def update(cluster: "Cluster", resource: Resource, ns: str, name: str, body: Any,
           subresource: str = "", dry_run: bool = False, field_validation: str = "",
           warnings: list[str] | None = None) -> dict:
    """PUT semantics (also the tail of PATCH); returns the stored object (with kind)."""
    new = _check_body(resource, body)
    prune_unknown(resource.kind, new, field_validation, warnings)
    meta = new["metadata"]
    if meta.get("name") and meta["name"] != name:
        raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the "
                                 f"name on the URL ({name})")
    meta["name"] = name
    _check_namespace(cluster, resource, ns, meta, creating=False)
    old = get(cluster, resource, ns, name)
    old_meta = old["metadata"]
    if meta.get("resourceVersion") and meta["resourceVersion"] != old_meta["resourceVersion"]:
        raise errors.conflict(resource.plural, name, group=resource.group)
    if meta.get("uid") and meta["uid"] != old_meta["uid"]:
        raise errors.conflict(resource.plural, name,
                              f"Precondition failed: UID in precondition: {meta['uid']}, UID in "
                              f"object meta: {old_meta['uid']}", group=resource.group)
    for key in SERVER_META:
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    meta["resourceVersion"] = old_meta["resourceVersion"]
    strategy = cluster.strategy(resource)
    strategy.prepare_update(cluster, new, old, subresource)
    problems = strategy.validate(cluster, new) + strategy.validate_update(cluster, new, old)
    _raise_invalid(resource, name, problems)
    if "generation" in meta and strategy.spec_changed(new, old):
        meta["generation"] = old_meta.get("generation", 1) + 1
    if new == old:
        # No-op writes do not bump the resourceVersion or emit a watch event.
        return _with_kind(resource, old)
    if dry_run:
        return _with_kind(resource, new)
    if meta.get("deletionTimestamp") and not meta.get("finalizers") \
            and meta.get("deletionGracePeriodSeconds", 0) == 0:
        final = cluster.remove(resource, new)
        return _with_kind(resource, final)
    cluster.persist(resource, new)
    strategy.after_update(cluster, new, old)
    return _with_kind(resource, new)


def patch(cluster: "Cluster", resource: Resource, ns: str, name: str, content_type: str,
          body: Any, subresource: str = "", dry_run: bool = False,
          field_manager: str | None = None, field_validation: str = "",
          warnings: list[str] | None = None) -> dict:
    """PATCH: apply the patch to the current object, then run the update path."""
    if content_type == APPLY_PATCH and not field_manager:
        raise errors.invalid("PatchOptions", "", [FieldError(
            "Required", "fieldManager", detail="is required for apply patch")])
    current = _with_kind(resource, get(cluster, resource, ns, name))
    patched = apply_patch(content_type, current, body)
    return update(cluster, resource, ns, name, patched, subresource, dry_run, field_validation,
                  warnings)


def delete(cluster: "Cluster", resource: Resource, ns: str, name: str,
           options: dict, dry_run: bool = False) -> tuple[dict, bool]:
    """DELETE: returns ``(object, removed)``; graceful/finalized objects stay (removed=False)."""
    obj = get(cluster, resource, ns, name)
    meta = obj["metadata"]
    pre = options.get("preconditions") or {}
    if pre.get("uid") and pre["uid"] != meta["uid"]:
        raise errors.conflict(resource.plural, name,
                              f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                              f"object meta: {meta['uid']}", group=resource.group)
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
        raise errors.conflict(resource.plural, name,
                              f"Precondition failed: ResourceVersion in precondition: "
                              f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                              f"{meta['resourceVersion']}", group=resource.group)
    strategy = cluster.strategy(resource)
    requested = options.get("gracePeriodSeconds")
    grace = strategy.grace_period(cluster, obj, requested)
    now = cluster.clock.now()
    if meta.get("deletionTimestamp"):
        # Already terminating: a second DELETE may only shorten the grace period.
        current = meta.get("deletionGracePeriodSeconds")
        if grace is None or current is None or grace >= current:
            return _with_kind(resource, obj), False
    orphan = options.get("propagationPolicy") == "Orphan"
    if dry_run:
        return _with_kind(resource, obj), False
    if grace or meta.get("finalizers") or strategy.deferred_delete(obj):
        meta["deletionTimestamp"] = format_time(now + (grace or 0))
        meta["deletionGracePeriodSeconds"] = grace or 0
        cluster.persist(resource, obj)
        cluster.on_terminating(resource, obj, grace or 0, orphan=orphan)
        return _with_kind(resource, obj), False
    final = cluster.remove(resource, obj, orphan=orphan)
    return _with_kind(resource, final), True


def success_status(resource: Resource, obj: dict) -> dict:
    """The ``Status`` a DELETE returns for kinds that do not return the object."""
    meta = obj["metadata"]
    details = {"name": meta["name"], "kind": resource.plural, "uid": meta["uid"]}
    if resource.group:
        details = {"name": meta["name"], "group": resource.group, "kind": resource.plural,
                   "uid": meta["uid"]}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": details}

