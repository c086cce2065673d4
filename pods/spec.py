"""Normalising a pod spec: defaults filled, formats converted, cross-field rules checked.

The API serializers check shapes and per-field rules; the functions here turn the validated
input into what is stored (and what the worker reads): complete resources, networking entries
with their generated URLs, path-keyed volume mounts. They raise DRF ``ValidationError`` keyed by
field path so the 400 names the field.
"""
from django.conf import settings
from rest_framework.exceptions import ValidationError

from pods.models import pod_url

RESOURCE_DEFAULTS = {"cpu_request": 250, "cpu_limit": 2000, "mem_request": 256, "mem_limit": 3072,
                     "gpus": 0}

NETWORKING_DEFAULTS = {
    "protocol": "http",
    "port": 5000,
    "url": "",
    "ip_allow_list": [],
    "tapis_auth": False,
    "tapis_auth_response_headers": {},
    # Upstream's newest default: only users with a permission on the pod pass Tapis auth.
    "tapis_auth_allowed_users": ["AUTHORIZED_USERS"],
    "tapis_auth_return_path": "/",
    "cors_allow_origins": [],
    "cors_allow_methods": [],
    "cors_allow_headers": [],
    "cors_allow_credentials": False,
    "cors_max_age": 100,
    "tapis_ui_uri": "",
    "tapis_ui_uri_redirect": False,
    "tapis_ui_uri_description": "",
}

# Mount types that need a volume, snapshot or claim: they arrive with the volumes feature.
VOLUME_BACKED_TYPES = ("tapisvolume", "tapissnapshot", "pvc")
MOUNT_TYPES = (*VOLUME_BACKED_TYPES, "ephemeral")
# Flipped by the volumes feature, which also checks the caller's access to each source.
VOLUMES_AVAILABLE = False
LEGACY_DEFAULT_MOUNT_PATH = "/tapis_volume_mount"


def resource_defaults() -> dict:
    """Defaults clamped into the configured bounds (a site may raise the minimums)."""
    cpu = lambda v: min(max(v, settings.PODS_CPU_MIN), settings.PODS_CPU_MAX)  # noqa: E731
    mem = lambda v: min(max(v, settings.PODS_MEM_MIN), settings.PODS_MEM_MAX)  # noqa: E731
    d = RESOURCE_DEFAULTS
    return {"cpu_request": cpu(d["cpu_request"]), "cpu_limit": cpu(d["cpu_limit"]),
            "mem_request": mem(d["mem_request"]), "mem_limit": mem(d["mem_limit"]), "gpus": 0}


def normalise_resources(given: dict | None, base: dict | None = None) -> dict:
    """``given`` on top of ``base`` (the pod's current resources, or the defaults).

    Keys not sent keep their current value, so ``{"cpu_limit": 4000}`` changes only that.
    Requests must not exceed limits.
    """
    merged = {**resource_defaults(), **(base or {}), **(given or {})}
    errors = {}
    for kind in ("cpu", "mem"):
        if merged[f"{kind}_request"] > merged[f"{kind}_limit"]:
            errors[f"{kind}_request"] = [
                f"{kind}_request ({merged[f'{kind}_request']}) must not exceed "
                f"{kind}_limit ({merged[f'{kind}_limit']})."]
    if errors:
        raise ValidationError({"resources": errors})
    return merged


def normalise_networking(given: dict, *, pod_id: str, pod_domain: str) -> dict:
    """Every entry completed with defaults and its generated ``url``."""
    result = {}
    for key, entry in given.items():
        full = {**NETWORKING_DEFAULTS, **entry}
        full["url"] = pod_url(pod_id, key, pod_domain)
        errors = {}
        if full["protocol"] != "http":
            for name in ("tapis_auth", "cors_allow_origins", "cors_allow_methods", "cors_allow_headers",
                         "cors_allow_credentials", "tapis_ui_uri_redirect"):
                if full[name] and full[name] != NETWORKING_DEFAULTS[name]:
                    errors[name] = [f"Only allowed with protocol 'http' (this entry is '{full['protocol']}')."]
        if errors:
            raise ValidationError({"networking": {key: errors}})
        result[key] = full
    return result


def normalise_volume_mounts(given: dict) -> dict:
    """Path-keyed mounts from either format; refuse what cannot be mounted yet.

    New format: ``{"/data": {"type": ..., "source_id": ..., ...}}``. Legacy (tapipy's spec):
    ``{"myvolume": {"type": ..., "mount_path": "/data", "sub_path": ...}}``, converted to
    ``{"/data": {"type": ..., "source_id": "myvolume", "sub_path": ...}}``. A ``null`` value
    (removing a mount a template provides) is kept as is.
    """
    result, errors = {}, {}
    for key, mount in given.items():
        if mount is None:
            if not key.startswith("/"):
                errors[key] = ["A mount removal (null) must be keyed by its absolute mount path."]
            else:
                result[key] = None
            continue
        mount = dict(mount)
        if key.startswith("/"):
            path = key
            if "mount_path" in mount and mount.pop("mount_path") != key:
                errors[key] = ["mount_path differs from the key; in this format the key is the mount path."]
                continue
        else:
            path = mount.pop("mount_path", LEGACY_DEFAULT_MOUNT_PATH)
            if not path.startswith("/"):
                errors[key] = [f"mount_path must be absolute (got {path!r})."]
                continue
            mount.setdefault("source_id", key)
        problem = _mount_problem(mount)
        if problem:
            errors[key] = [problem]
        elif path in result:
            errors[key] = [f"Two mounts at {path}."]
        else:
            result[path] = mount
    if errors:
        raise ValidationError({"volume_mounts": errors})
    return result


def _mount_problem(mount: dict) -> str | None:
    kind = mount.get("type", "")
    if kind not in MOUNT_TYPES:
        return f"type must be one of {', '.join(MOUNT_TYPES)} (got {kind!r})."
    if kind in VOLUME_BACKED_TYPES:
        if not VOLUMES_AVAILABLE:
            return (f"Mounting a {kind} is not available yet: volumes and snapshots arrive with the "
                    "volumes feature. Only 'ephemeral' (a file from config_content) can be mounted now.")
        if not mount.get("source_id"):
            return f"A {kind} mount needs a source_id."
        mount.setdefault("read_only", kind == "tapissnapshot")
    else:  # ephemeral: a file whose content is given inline (a ConfigMap in Kubernetes)
        if mount.get("source_id"):
            return "An ephemeral mount takes no source_id."
        if not mount.get("config_content"):
            return "An ephemeral mount needs config_content (the file's content)."
        mount.setdefault("read_only", True)
        mount.setdefault("config_permissions", "0644")
    mount.setdefault("sub_path", "")
    return None


def check_compute_queue(queue: str) -> None:
    if queue not in settings.PODS_COMPUTE_QUEUES:
        raise ValidationError({"compute_queue": [
            f"Unknown compute queue {queue!r}; available: {', '.join(settings.PODS_COMPUTE_QUEUES)}."]})
