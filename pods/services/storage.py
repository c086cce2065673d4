"""Writes to volumes and snapshots: create, update, delete and their permissions.

Files themselves are handled in :mod:`pods.services.files` (through the storage backend).
Rules: ids are unique per tenant (409); the tenant's storage quota bounds the sum of its
volumes' and snapshots' ``size_limit``; a volume a live pod mounts cannot be deleted (409
naming the pods); a snapshot needs USER on its source volume and outlives it; permissions
follow the pods' rules (creator ADMIN, at least one ADMIN remains, no grant above your own).
"""
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import BadRequest, Conflict, Forbidden, NotFound, QuotaExceeded
from core.permissions import PermissionLevel
from pods.choices import AT_REST
from pods.models import Pod, Snapshot, StorageEvent, Volume
from tenancy.models import Tenant

from .pods import actor_of

ADMIN_CAPABLE = (PermissionLevel.ADMIN, PermissionLevel.APPROVEDADMIN)


def _lock_tenant(tenant) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


def _check_storage_quota(tenant, *, adding_mb: int, exclude=None) -> None:
    """403 when the tenant's volumes and snapshots together would reserve more than its quota.

    The quota is also the size of the tenant's storage claim (docs/volumes.md), so what is
    reserved here is what the cluster can hold. The caller holds the tenant row lock.
    """
    quota = settings.PODS_STORAGE_TENANT_QUOTA_MB
    used = 0
    for model in (Volume, Snapshot):
        qs = model.objects.filter(tenant=tenant)
        if exclude is not None and isinstance(exclude, model):
            qs = qs.exclude(pk=exclude.pk)
        used += qs.aggregate(total=Sum("size_limit", default=0))["total"]
    if used + adding_mb > quota:
        raise QuotaExceeded(
            f"Tenant storage quota exceeded: volumes and snapshots would reserve {used + adding_mb} MB, "
            f"the tenant's quota is {quota} MB.",
            metadata={"quota": "storage_mb", "limit": quota, "requested_total": used + adding_mb})


def _grant_owner(obj, principal, actor):
    obj.permission_model().objects.create(target=obj, username=principal.username,
                                          level=PermissionLevel.ADMIN, granted_by=actor)


@transaction.atomic
def volume_create(*, principal, data: dict) -> Volume:
    """A new volume (status REQUESTED until its directory exists); the creator is ADMIN."""
    tenant = _lock_tenant(principal.tenant)
    volume_id = data["volume_id"]
    if Volume.objects.filter(tenant=tenant, volume_id=volume_id).exists():
        raise Conflict(f"A volume with volume_id '{volume_id}' already exists in this tenant.",
                       metadata={"volume_id": volume_id})
    size_limit = data.get("size_limit", 1024)
    _check_storage_quota(tenant, adding_mb=size_limit)
    volume = Volume(tenant=tenant, volume_id=volume_id, description=data.get("description", ""),
                    size_limit=size_limit)
    try:
        with transaction.atomic():
            volume.save(force_insert=True)
    except IntegrityError:
        raise Conflict(f"A volume with volume_id '{volume_id}' already exists in this tenant.") from None
    actor = actor_of(principal)
    _grant_owner(volume, principal, actor)
    StorageEvent.record(volume, actor=actor, message=f"Volume created by '{principal.username}'")
    wake_storage(tenant.pk)
    return volume


def _update(obj, principal, data: dict, fields: tuple) -> tuple:
    changes = {name: value for name, value in data.items() if name in fields and getattr(obj, name) != value}
    if not changes:
        return obj, []
    if "size_limit" in changes and changes["size_limit"] > obj.size_limit:
        _check_storage_quota(_lock_tenant(obj.tenant), adding_mb=changes["size_limit"], exclude=obj)
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.update_ts = timezone.now()
    obj.save(update_fields=[*changes, "update_ts"])
    shown = ", ".join(f"{k}={v!r}" if k != "description" else k for k, v in changes.items())
    StorageEvent.record(obj, actor=actor_of(principal), message=f"{actor_of(principal)} updated {shown}")
    return obj, list(changes)


@transaction.atomic
def volume_update(*, volume: Volume, principal, data: dict) -> tuple[Volume, list[str]]:
    """Change description and/or size_limit; returns the volume and the changed field names."""
    return _update(volume, principal, data, ("description", "size_limit"))


def pods_mounting(volume_or_snapshot) -> list[str]:
    """pod_ids of the tenant's live pods (not stopped) whose spec mounts this volume/snapshot."""
    kind = "tapisvolume" if isinstance(volume_or_snapshot, Volume) else "tapissnapshot"
    rows = (Pod.objects.filter(tenant_id=volume_or_snapshot.tenant_id).exclude(volume_mounts={})
            .exclude(status__in=AT_REST).values_list("pod_id", "volume_mounts"))
    return sorted(pod_id for pod_id, mounts in rows
                  if any(m and m.get("type") == kind and m.get("source_id") == volume_or_snapshot.object_id
                         for m in (mounts or {}).values()))


@transaction.atomic
def volume_delete(*, volume: Volume, actor: str) -> None:
    """Delete the volume row; its directory is removed by the worker's storage pass (its
    snapshots stay). 409 naming the pods that mount it while they run."""
    locked = Volume.objects.select_for_update().get(pk=volume.pk)
    users = pods_mounting(locked)
    if users:
        raise Conflict(f"Volume '{volume.volume_id}' is mounted by running pods: {', '.join(users)}. "
                       "Stop them (or remove the mount) first.", metadata={"pods": users})
    StorageEvent.record(locked, actor=actor, message=f"Volume deleted by {actor}")
    locked.delete()
    wake_storage(locked.tenant_id)


@transaction.atomic
def snapshot_create(*, principal, data: dict, source: Volume) -> Snapshot:
    """A snapshot row (REQUESTED); :func:`pods.services.files.snapshot_copy` makes the copy."""
    tenant = _lock_tenant(principal.tenant)
    snapshot_id = data["snapshot_id"]
    if Snapshot.objects.filter(tenant=tenant, snapshot_id=snapshot_id).exists():
        raise Conflict(f"A snapshot with snapshot_id '{snapshot_id}' already exists in this tenant.",
                       metadata={"snapshot_id": snapshot_id})
    size_limit = data.get("size_limit", 1024)
    _check_storage_quota(tenant, adding_mb=size_limit)
    snapshot = Snapshot(tenant=tenant, snapshot_id=snapshot_id, source=source,
                        source_volume_id=source.volume_id, source_volume_path=data["source_volume_path"],
                        destination_path=data.get("destination_path", ""),
                        description=data.get("description", ""), size_limit=size_limit,
                        cron=data.get("cron", ""), retention_policy=data.get("retention_policy", ""))
    try:
        with transaction.atomic():
            snapshot.save(force_insert=True)
    except IntegrityError:
        raise Conflict(f"A snapshot with snapshot_id '{snapshot_id}' already exists in this tenant.") from None
    actor = actor_of(principal)
    _grant_owner(snapshot, principal, actor)
    StorageEvent.record(snapshot, actor=actor,
                        message=f"Snapshot created by '{principal.username}' from volume '{source.volume_id}' "
                                f"path {data['source_volume_path']!r}")
    return snapshot


@transaction.atomic
def snapshot_update(*, snapshot: Snapshot, principal, data: dict) -> tuple[Snapshot, list[str]]:
    return _update(snapshot, principal, data, ("description", "size_limit", "cron", "retention_policy"))


@transaction.atomic
def snapshot_delete(*, snapshot: Snapshot, actor: str) -> None:
    locked = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
    users = pods_mounting(locked)
    if users:
        raise Conflict(f"Snapshot '{snapshot.snapshot_id}' is mounted by running pods: {', '.join(users)}. "
                       "Stop them (or remove the mount) first.", metadata={"pods": users})
    StorageEvent.record(locked, actor=actor, message=f"Snapshot deleted by {actor}")
    locked.delete()
    wake_storage(locked.tenant_id)


# --- Permissions ------------------------------------------------------------------------------

def storage_permission_lines(obj) -> list[str]:
    return [p.as_wire() for p in obj.permission_model().objects.filter(target=obj).order_by("-level", "username")]


def _check_admin_remains(obj) -> None:
    if not obj.permission_model().objects.filter(target=obj, level__in=ADMIN_CAPABLE).exclude(username="*").exists():
        raise BadRequest(f"Operation would leave the {obj.kind} with no ADMIN-capable user. Rolling back.")


def _caller_level(obj, principal) -> int:
    level = getattr(obj, "level", None)
    if level is None:
        level = type(obj).objects.with_level(principal).values_list("level", flat=True).get(pk=obj.pk)
    return level


@transaction.atomic
def storage_permission_set(*, obj, principal, username: str, level: int) -> list[str]:
    """Give ``username`` ``level`` on a volume or snapshot; returns the new permission lines."""
    caller_level = _caller_level(obj, principal)
    type(obj).objects.select_for_update().filter(pk=obj.pk).first()
    if username == "*" and level > PermissionLevel.READ:
        raise BadRequest("The tenant-wide '*' entry can only be READ.")
    if level == PermissionLevel.APPROVEDADMIN and not principal.admin_mode:
        raise Forbidden("Only tenant admins in admin mode (X-Pods-Admin: true) grant APPROVEDADMIN.")
    if level > caller_level:
        raise Forbidden("You cannot grant a level above your own.")
    perms = obj.permission_model().objects
    existing = perms.filter(target=obj, username=username).first()
    if existing and existing.level > caller_level:
        raise Forbidden(f"{username}'s level is above yours; you cannot change it.")
    actor = actor_of(principal)
    perms.update_or_create(target=obj, username=username, defaults={"level": level, "granted_by": actor})
    _check_admin_remains(obj)
    StorageEvent.record(obj, actor=actor, message=f"{actor} set {username}'s permission to {PermissionLevel(level).label}")
    return storage_permission_lines(obj)


@transaction.atomic
def storage_permission_delete(*, obj, principal, username: str) -> list[str]:
    caller_level = _caller_level(obj, principal)
    type(obj).objects.select_for_update().filter(pk=obj.pk).first()
    existing = obj.permission_model().objects.filter(target=obj, username=username).first()
    if existing is None:
        raise NotFound(f"User '{username}' has no permission on {obj.kind} '{obj.object_id}'.")
    if existing.level > caller_level:
        raise Forbidden(f"{username}'s level is above yours; you cannot remove it.")
    existing.delete()
    _check_admin_remains(obj)
    actor = actor_of(principal)
    StorageEvent.record(obj, actor=actor, message=f"{actor} removed {username}'s permission")
    return storage_permission_lines(obj)


# --- Waking the worker ------------------------------------------------------------------------

ENSURE_STORAGE_TASK = "workers.ensure_storage"


def wake_storage(tenant_pk: int) -> None:
    """Ask the worker, after commit, to bring the tenant's storage server up to date (start it,
    create requested directories, remove deleted objects' directories)."""
    from pods.lifecycle import _send

    transaction.on_commit(lambda: _send(ENSURE_STORAGE_TASK, tenant_pk))
