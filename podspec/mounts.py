"""A pod's volume mounts: both wire formats, normalised to mounts keyed by their path."""
import hashlib
import re

from core.errors import InvalidInput

from .paths import clean_relative_path

# Mount types that need a volume, snapshot or claim (docs/volumes.md).
VOLUME_BACKED_TYPES = ("tapisvolume", "tapissnapshot", "pvc")
# Mounts of a user's volume or snapshot: checked against the user's permissions.
SHARED_STORAGE_TYPES = ("tapisvolume", "tapissnapshot")
MOUNT_TYPES = (*VOLUME_BACKED_TYPES, "ephemeral")
VOLUMES_AVAILABLE = True
LEGACY_DEFAULT_MOUNT_PATH = "/tapis_volume_mount"
SOURCE_ID_RE = re.compile(r"^[a-z][a-z0-9-]{1,127}$")


def normalise_volume_mounts(given: dict, *, for_template: bool = False) -> dict:
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
        problem = _mount_problem(mount, for_template)
        if problem:
            errors[key] = [problem]
        elif path in result:
            errors[key] = [f"Two mounts at {path}."]
        else:
            result[path] = mount
    if errors:
        raise InvalidInput({"volume_mounts": errors})
    return result


def _mount_problem(mount: dict, for_template: bool = False) -> str | None:
    kind = mount.get("type", "")
    if kind not in MOUNT_TYPES:
        return f"type must be one of {', '.join(MOUNT_TYPES)} (got {kind!r})."
    if kind in VOLUME_BACKED_TYPES:
        if not VOLUMES_AVAILABLE:
            return f"Mounting a {kind} is not available."
        if for_template and kind in SHARED_STORAGE_TYPES:
            return (f"A template cannot mount a {kind}: volumes and snapshots belong to users. "
                    "Add the mount to the pod (its creator's permissions are checked).")
        if not mount.get("source_id"):
            return f"A {kind} mount needs a source_id."
        if not SOURCE_ID_RE.match(mount["source_id"]):
            return f"source_id must match ^[a-z][a-z0-9-]+$ (got {mount['source_id']!r})."
        if mount.get("config_content") is not None:
            return f"A {kind} mount takes no config_content."
        try:
            mount["sub_path"] = clean_relative_path(mount.get("sub_path") or "", field="sub_path")
        except InvalidInput as exc:
            return f"sub_path: {exc.errors['sub_path'][0]}"
        if kind == "tapissnapshot":
            if mount.get("read_only") is False:
                return "A tapissnapshot is mounted read-only (read_only cannot be false)."
            mount["read_only"] = True
        mount.setdefault("read_only", False)
        return None
    else:  # ephemeral: a file whose content is given inline (a ConfigMap in Kubernetes)
        if mount.get("source_id"):
            return "An ephemeral mount takes no source_id."
        if not mount.get("config_content"):
            return "An ephemeral mount needs config_content (the file's content)."
        mount.setdefault("read_only", True)
        mount.setdefault("config_permissions", "0644")
    mount.setdefault("sub_path", "")
    return None


def pod_claim_name(k8_name: str, source_id: str) -> str:
    """The pod-private claim of a ``pvc`` mount: named from the pod, so no pod reaches another's."""
    full = f"{k8_name}-pvc-{source_id}"
    if len(full) <= 63:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[:54].rstrip('-')}-{digest}"
