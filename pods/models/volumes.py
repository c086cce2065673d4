"""Volumes and snapshots: a tenant's persistent storage, with per-user permissions.

A volume is a directory on its tenant's storage server, named by the volume's ``uid`` (never by
the user-chosen ``volume_id``), so paths never collide, never leak ids and a re-created
volume with the same id never sees its predecessor's files. A snapshot is a point-in-time copy
of (part of) a volume, again stored under its own ``uid``; it outlives its source volume
(``source`` is nulled, ``source_volume_id`` keeps the name). See docs/volumes.md.
"""
import uuid

from django.db import models
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.permissions import ObjectPermission, PermissionLevel
from tenancy.models import Tenant

DEFAULT_SIZE_LIMIT_MB = 1024


class StorageStatus(models.TextChoices):
    """Wire values shared with upstream (``REQUESTED`` → ``CREATING`` → ``AVAILABLE``)."""

    REQUESTED = "REQUESTED"
    CREATING = "CREATING"
    AVAILABLE = "AVAILABLE"
    DELETING = "DELETING"
    ERROR = "ERROR"


class StorageQuerySet(models.QuerySet):
    """Visibility and effective level, as :class:`pods.models.PodQuerySet` (grants via ``permissions``)."""

    def _grants(self, principal):
        return self.model.permission_model().objects.filter(
            target=OuterRef("pk"), username__in=(principal.username, "*"))

    def visible_to(self, principal):
        qs = self.filter(tenant_id=principal.tenant.pk)
        if principal.admin_mode:
            return qs
        return qs.filter(Exists(self._grants(principal)))

    def with_level(self, principal):
        if principal.admin_mode:
            return self.annotate(level=Value(int(PermissionLevel.APPROVEDADMIN)))
        best = self._grants(principal).order_by("-level").values("level")[:1]
        return self.annotate(level=Coalesce(Subquery(best), Value(0)))


class StorageObject(models.Model):
    """Fields volumes and snapshots share."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    description = models.CharField(max_length=255, blank=True, default="")
    size_limit = models.PositiveIntegerField(default=DEFAULT_SIZE_LIMIT_MB, help_text="MB.")
    status = models.CharField(max_length=16, choices=StorageStatus.choices, default=StorageStatus.REQUESTED)
    # Last measured usage (bytes, from ``du -sb`` in the storage server) and when.
    size_bytes = models.BigIntegerField(default=0)
    measured_at = models.DateTimeField(null=True, blank=True)
    creation_ts = models.DateTimeField(default=timezone.now)
    update_ts = models.DateTimeField(default=timezone.now)

    objects = StorageQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def size_mb(self) -> int:
        return (self.size_bytes + 1024 * 1024 - 1) // (1024 * 1024)

    @property
    def size_limit_bytes(self) -> int:
        return self.size_limit * 1024 * 1024


class Volume(StorageObject):
    volume_id = models.CharField(max_length=128)

    class Meta:
        ordering = ["tenant_id", "volume_id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "volume_id"], name="volume_unique_per_tenant")]

    kind = "volume"

    def __str__(self):
        return f"{self.volume_id} ({self.tenant_id})"

    @property
    def object_id(self) -> str:
        return self.volume_id

    @property
    def storage_path(self) -> str:
        """The directory on the tenant's storage server (see docs/volumes.md)."""
        return f"volumes/{self.uid}"

    @staticmethod
    def permission_model():
        return VolumePermission


class Snapshot(StorageObject):
    snapshot_id = models.CharField(max_length=128)
    source = models.ForeignKey(Volume, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="snapshots")
    source_volume_id = models.CharField(max_length=128, help_text="The source's volume_id (kept after it is deleted).")
    source_volume_path = models.CharField(max_length=1024)
    destination_path = models.CharField(max_length=1024, blank=True, default="")
    cron = models.CharField(max_length=100, blank=True, default="")
    retention_policy = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["tenant_id", "snapshot_id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "snapshot_id"], name="snapshot_unique_per_tenant")]

    kind = "snapshot"

    def __str__(self):
        return f"{self.snapshot_id} ({self.tenant_id})"

    @property
    def object_id(self) -> str:
        return self.snapshot_id

    @property
    def storage_path(self) -> str:
        return f"snapshots/{self.uid}"

    @staticmethod
    def permission_model():
        return SnapshotPermission


class VolumePermission(ObjectPermission):
    target = models.ForeignKey(Volume, on_delete=models.CASCADE, related_name="permissions")

    class Meta:
        ordering = ["target_id", "-level", "username"]
        constraints = [models.UniqueConstraint(fields=["target", "username"], name="volume_permission_unique_user")]


class SnapshotPermission(ObjectPermission):
    target = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="permissions")

    class Meta:
        ordering = ["target_id", "-level", "username"]
        constraints = [models.UniqueConstraint(fields=["target", "username"], name="snapshot_permission_unique_user")]


class StorageEvent(models.Model):
    """The action log of volumes and snapshots (append-only, outlives the object, no secrets)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=16)  # "volume" | "snapshot"
    object_uid = models.UUIDField(db_index=True)
    object_name = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=200)
    message = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.object_type} {self.object_name}: {self.message}"

    @classmethod
    def record(cls, obj, *, actor: str, message: str) -> "StorageEvent":
        return cls.objects.create(tenant_id=obj.tenant_id, object_type=obj.kind, object_uid=obj.uid,
                                  object_name=obj.object_id, actor=actor, message=message)

    def as_action_log(self) -> str:
        return f"{self.created_at:%y/%m/%d %H:%M}: {self.message}"


class StorageServer(models.Model):
    """A tenant's storage server as the worker last saw it, and when it was last used.

    ``READY`` means the server Pod ran and answered at ``ready_at``; file operations then exec
    into it. The worker's reaper deletes the Pod when nothing used it for a while (the claim
    and Service stay), setting ``STOPPED``; the next use asks the worker to start it again.
    """

    class Status(models.TextChoices):
        STOPPED = "STOPPED"
        STARTING = "STARTING"
        READY = "READY"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STOPPED)
    pod_name = models.CharField(max_length=63, blank=True)
    cluster_ip = models.CharField(max_length=64, blank=True)
    last_used_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    def __str__(self):
        return f"storage of {self.tenant_id}: {self.status}"
