"""The derivation rules: how a pod and the chain of template versions it uses combine (§4.4).

Pure functions over plain dicts, so every rule is tested table-driven without a database.

A template version *sets* a field when its definition holds the key with a non-null value
(definitions are stored sparse: only what the publisher gave). Precedence, strongest first:
**the pod's value if the user set it > the closer template > the deeper template > the pod's
default**. Per field:

- ``environment_variables`` and ``secret_map``: one dict each, merged key by key (the pod's keys
  win: that is how a pod gives the values a template declares as required);
- ``healthchecks``: whole, like the plain fields below;
- ``resources``: merged key by key; a pod key wins only if the user set it
  (``resources.<key>`` or ``resources`` in the pod's modified fields);
- ``networking``: merged entry by entry; the pod's entries count only if the user set
  ``networking`` (a pod's untouched default ``http:5000`` entry never joins a template's ports);
- ``volume_mounts``: merged by mount path; a ``null`` value removes an inherited mount;
- everything else (image, command, arguments, description, time_to_stop_*, compute_queue): the
  pod's value if the user set it, else the closest template's, else the pod's (default) value.

``security`` (what the image needs: capabilities, non-root) is a template's alone: a pod never
sets it, and the closest template that declares it wins whole (:func:`merged_security`).
"""
MERGED_FIELDS = ("image", "description", "command", "arguments", "environment_variables",
                 "volume_mounts", "time_to_stop_default", "time_to_stop_instance", "networking",
                 "resources", "compute_queue", "secret_map", "healthchecks")
POD = "pod"
TEMPLATE = "template"
DEFAULT = "default"


def template_sets(definition: dict) -> dict:
    """The fields a template definition sets (present, not null), restricted to mergeable ones."""
    return {name: value for name, value in definition.items()
            if name in MERGED_FIELDS and value is not None}


def merge_templates(definitions: list[dict]) -> dict:
    """Collapse a chain of definitions, deepest first, into what the chain sets as a whole."""
    merged: dict = {}
    for definition in definitions:
        for name, value in template_sets(definition).items():
            if name in ("environment_variables", "networking", "volume_mounts", "secret_map"):
                merged[name] = {**merged.get(name, {}), **value}
            elif name == "resources":
                merged[name] = {**merged.get(name, {}),
                                **{k: v for k, v in value.items() if v is not None}}
            else:
                merged[name] = value
    return merged


def user_resource_keys(modified_fields, resources: dict) -> set[str]:
    """Resource keys the user chose: ``resources.<key>`` entries (``resources`` alone: all)."""
    if "resources" in modified_fields:
        return set(resources)
    return {name.split(".", 1)[1] for name in modified_fields if name.startswith("resources.")}


def derive(pod: dict, modified_fields, definitions: list[dict]) -> tuple[dict, dict]:
    """The pod's fields with the template chain applied.

    ``pod`` holds the pod's stored values of :data:`MERGED_FIELDS`; ``modified_fields`` the names
    the user set (``resources.<key>`` for resource keys); ``definitions`` the chain's pod
    definitions, deepest first. Returns ``(fields, provenance)`` where provenance maps each field
    to ``"pod"``, ``"template"`` or ``"default"``.
    """
    modified = set(modified_fields)
    chain = merge_templates(definitions)
    fields, provenance = {}, {}
    for name in MERGED_FIELDS:
        pod_value = pod.get(name)
        user_set = name in modified
        if name not in chain:
            fields[name] = _without_removals(pod_value) if name == "volume_mounts" else pod_value
            provenance[name] = POD if user_set or _is_resource_choice(name, modified) else DEFAULT
            continue
        from_template = chain[name]
        if name in ("environment_variables", "secret_map"):
            fields[name] = {**from_template, **(pod_value or {})}
            provenance[name] = POD if pod_value else TEMPLATE
        elif name == "resources":
            mine = user_resource_keys(modified, pod_value or {})
            fields[name] = {**(pod_value or {}), **from_template,
                            **{k: v for k, v in (pod_value or {}).items() if k in mine}}
            provenance[name] = POD if mine else TEMPLATE
        elif name == "networking":
            fields[name] = {**from_template, **(pod_value or {})} if user_set else dict(from_template)
            provenance[name] = POD if user_set else TEMPLATE
        elif name == "volume_mounts":
            fields[name] = _without_removals({**from_template, **(pod_value or {})})
            provenance[name] = POD if pod_value else TEMPLATE
        else:
            fields[name] = pod_value if user_set else from_template
            provenance[name] = POD if user_set else TEMPLATE
    return fields, provenance


def _without_removals(mounts):
    """Mounts minus the ``null`` entries (which only remove what a template would add)."""
    if mounts is None:
        return None
    return {path: mount for path, mount in mounts.items() if mount is not None}


def _is_resource_choice(name: str, modified: set) -> bool:
    return name == "resources" and any(m.startswith("resources.") for m in modified)


def merged_security(definitions: list[dict]) -> dict:
    """The ``security`` the closest template of a chain (deepest first) declares; ``{}`` if none."""
    result: dict = {}
    for definition in definitions:
        if definition.get("security") is not None:
            result = dict(definition["security"])
    return result
