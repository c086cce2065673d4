"""A pod's volume mounts: both wire formats, normalised to mounts keyed by their path."""
from core.errors import InvalidInput

# Mount types that need a volume, snapshot or claim: they arrive with the volumes feature.
VOLUME_BACKED_TYPES = ("tapisvolume", "tapissnapshot", "pvc")
MOUNT_TYPES = (*VOLUME_BACKED_TYPES, "ephemeral")
# Flipped by the volumes feature, which also checks the caller's access to each source.
VOLUMES_AVAILABLE = False
LEGACY_DEFAULT_MOUNT_PATH = "/tapis_volume_mount"


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
        raise InvalidInput({"volume_mounts": errors})
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
