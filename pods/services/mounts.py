"""Who may mount what: a pod's ``tapisvolume`` / ``tapissnapshot`` mounts against the caller's
permissions (USER on a volume, READ on a snapshot), at create and update here, and again when
the pod starts (:func:`check_mounts_at_start`, called by the worker)."""
from core.errors import Forbidden, InvalidInput
from core.permissions import PermissionLevel
from pods.models import Snapshot, Volume
from podspec.mounts import SHARED_STORAGE_TYPES

NEEDED = {"tapisvolume": (Volume, "volume_id", PermissionLevel.USER),
          "tapissnapshot": (Snapshot, "snapshot_id", PermissionLevel.READ)}
_SAME = ("type", "source_id", "sub_path", "read_only")


def authorize_mounts(*, principal, mounts: dict, previous: dict | None = None) -> dict:
    """Check each shared-storage mount and stamp ``mounted_by``; an unchanged mount keeps its own."""
    errors = {}
    for path, mount in mounts.items():
        if not mount or mount.get("type") not in SHARED_STORAGE_TYPES:
            continue
        old = (previous or {}).get(path) or {}
        if old.get("mounted_by") and all(old.get(k) == mount.get(k) for k in _SAME):
            mount["mounted_by"] = old["mounted_by"]
            continue
        model, field, needed = NEEDED[mount["type"]]
        obj = (model.objects.visible_to(principal).with_level(principal)
               .filter(**{field: mount["source_id"]}).first())
        if obj is None:
            errors[path] = [f"No {model.kind} '{mount['source_id']}' that you can see in this tenant."]
        elif obj.level < needed:
            errors[path] = [f"Mounting {model.kind} '{mount['source_id']}' needs {needed.label} permission on it."]
        else:
            mount["mounted_by"] = principal.username
    if errors:
        raise InvalidInput({"volume_mounts": errors})
    return mounts


def check_mounts_at_start(pod, mounts: dict) -> list[tuple[str, dict, object]]:
    """``(mount_path, mount, volume or snapshot)`` for the pod's shared-storage mounts, after
    checking that whoever added each mount still holds the level it needs (Forbidden if not:
    the worker marks the pod ERROR with the message)."""
    result = []
    for path, mount in sorted(mounts.items()):
        if not mount or mount.get("type") not in SHARED_STORAGE_TYPES:
            continue
        model, field, needed = NEEDED[mount["type"]]
        obj = model.objects.filter(tenant_id=pod.tenant_id, **{field: mount["source_id"]}).first()
        user = mount.get("mounted_by") or ""
        level = 0
        if obj is not None and user:
            level = max(obj.permission_model().objects.filter(target=obj, username__in=(user, "*"))
                        .values_list("level", flat=True), default=0)
            if pod.tenant.is_admin(user):
                level = max(level, PermissionLevel.ADMIN)
        if obj is None or level < needed:
            raise Forbidden(f"Mount {path}: {model.kind} '{mount['source_id']}' "
                            + ("no longer exists." if obj is None else
                               f"needs {needed.label} permission for {user or 'its creator'}, who no longer has it."))
        result.append((path, mount, obj))
    return result
