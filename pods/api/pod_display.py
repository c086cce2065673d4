"""Upstream's other views of one pod (parity): ``get_pod``'s ``?include_configs``, ``?derived``
and ``?derived_lite``, and ``GET /pods/{pod_id}/overrides``.

- ``?include_configs=true``: ephemeral mounts' ``config_content`` as written (placeholders
  unresolved) instead of ``<redacted>``; it may hold what its author typed in, so pod USER.
- ``?derived_lite=true``: the pod as it will run (template chain merged) with its
  ``modified_fields`` ledger, in one request (upstream's tapis-ui Overview); pod READ.
- ``?derived=true``: the same with credential placeholders resolved: pod ADMIN only (as
  ``get_derived_pod?resolve_secrets=true``).
- ``/overrides``: only the user's layer — the fields and keys in ``modified_fields`` — plus
  identity, as upstream's ``display_overrides``.
- ``/provenance``: per field, where its value comes from (``pod``, ``template`` or
  ``default``, decided by the ``modified_fields`` ledger, never by a value being non-empty) with
  the pod's, the template chain's and the derived value, as upstream's ``attribute_pod_fields``.
"""
from rest_framework import exceptions

from core.envelope import ok
from core.fields import QueryFlag
from pods.derive import DICT_FIELDS, derived_spec, template_chain, user_view
from podspec.merge import MERGED_FIELDS, merge_templates

from .permissions import CanAdminPod, CanUsePod
from .rendering import redact_mounts, render_pod

VIEW_FLAGS = ("include_configs", "derived", "derived_lite")


def wants_view(request) -> bool:
    return any(name in request.query_params for name in VIEW_FLAGS)


def _require(permission, request, view, pod, why: str) -> None:
    if not permission().has_object_permission(request, view, pod):
        raise exceptions.PermissionDenied(why)


def pod_view(request, view, pod):
    """``get_pod`` with any of :data:`VIEW_FLAGS`."""
    include_configs = QueryFlag.read(request, "include_configs")
    full = QueryFlag.read(request, "derived")
    lite = QueryFlag.read(request, "derived_lite")
    if include_configs:
        _require(CanUsePod, request, view, pod, "include_configs shows file contents: pod USER needed.")
    if full:
        _require(CanAdminPod, request, view, pod, "derived=true resolves credentials: pod ADMIN only "
                                                   "(derived_lite=true shows the merged pod without them).")
    result = render_pod(pod)
    metadata = {}
    if full or lite:
        derived = derived_spec(pod, resolve_credentials=full)
        result.update({k: v for k, v in derived.spec.items() if k in result})
        result["modified_fields"] = list(pod.modified_fields or [])
        metadata = {"derived": "full" if full else "lite", "template_chain": derived.chain,
                    "unresolved_placeholders": derived.unresolved}
    mounts = result["volume_mounts"] if (full or lite) else pod.volume_mounts
    result["volume_mounts"] = dict(mounts or {}) if include_configs else redact_mounts(mounts)
    return ok(result, "Pod retrieved successfully.", metadata)


def pod_overrides(pod) -> dict:
    """The user's layer of ``pod``: what ``modified_fields`` names, grouped by field."""
    modified = list(pod.modified_fields or [])
    overrides: dict = {}
    for name in modified:
        field, dot, key = name.partition(".")
        if dot:
            stored = getattr(pod, field, None) or {}
            if key in stored:
                value = stored[key]
                if field == "volume_mounts":
                    value = redact_mounts({key: value})[key]
                overrides.setdefault(field, {})[key] = value
            continue
        if field in DICT_FIELDS:
            if not any(m.startswith(f"{field}.") for m in modified):
                overrides[field] = redact_mounts(pod.volume_mounts) if field == "volume_mounts" \
                    else getattr(pod, field)
            continue
        if hasattr(pod, field):
            overrides[field] = getattr(pod, field)
    return {"pod_id": pod.pod_id, "template": pod.template or None, "status": pod.status,
            "modified_fields": modified, "overrides": overrides}


def pod_provenance(pod) -> dict:
    """Where each of the pod's fields comes from, with the three values that decide it."""
    modified = set(pod.modified_fields or [])
    chain = template_chain(pod) if pod.template_tag_id is not None else []
    from_templates = merge_templates([version.pod_definition for version in chain])
    mine, _ = user_view(pod)
    derived = derived_spec(pod)
    fields = {}
    for name in MERGED_FIELDS:
        in_ledger = name in modified or any(m.startswith(f"{name}.") for m in modified)
        provides = name in from_templates
        source = "pod" if in_ledger else ("template" if provides else "default")
        values = [mine.get(name) if in_ledger else None, from_templates.get(name), derived.spec.get(name)]
        if name == "volume_mounts":
            values = [redact_mounts(v) if v else v for v in values]
        fields[name] = {"source": source, "in_modified_fields": in_ledger, "template_provides": provides,
                        "pod_value": values[0], "template_value": values[1], "derived_value": values[2]}
    counts = {word: sum(1 for info in fields.values() if info["source"] == word)
              for word in ("pod", "template", "default")}
    return {"pod_id": pod.pod_id, "template": pod.template or None, "template_chain": derived.chain,
            "modified_fields": list(pod.modified_fields or []), "fields": fields, "summary": counts}
