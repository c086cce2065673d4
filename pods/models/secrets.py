"""Per-user secrets (upstream's ``/v3/pods/secrets``): a named value, encrypted at rest, that
pods use through ``secret_map`` (``${secret:name}``) without it ever appearing in a response.

Unlike upstream, where secret ids are unique per *site*, ids are unique per *tenant*: another
tenant's secret ids are invisible (docs/upstream-differences.md). The value is never rendered:
only ``get_secret_value`` (USER on the secret, and the secret ``readable``) returns it, as
upstream does. Permissions and the action log reuse the volumes' machinery
(:class:`pods.models.volumes.StorageQuerySet`, ``StorageEvent``).
"""
import uuid

from django.db import models
from django.utils import timezone

from core.permissions import ObjectPermission
from tenancy import crypto
from tenancy.models import Tenant

from .volumes import StorageQuerySet


class SecretScope(models.TextChoices):
    USER = "user"
    POD = "pod"


class PodSecret(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    secret_id = models.CharField(max_length=110)
    scope = models.CharField(max_length=8, choices=SecretScope.choices, default=SecretScope.USER)
    pod_id = models.CharField(max_length=64, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    readable = models.BooleanField(default=True)
    writable = models.BooleanField(default=True)
    value_encrypted = models.TextField(editable=False)
    added_by = models.CharField(max_length=150)
    creation_ts = models.DateTimeField(default=timezone.now)
    update_ts = models.DateTimeField(default=timezone.now)

    objects = StorageQuerySet.as_manager()

    kind = "secret"

    class Meta:
        ordering = ["tenant_id", "secret_id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "secret_id"], name="secret_unique_per_tenant")]

    def __str__(self):
        return f"{self.secret_id} ({self.tenant_id})"

    def __repr__(self):
        return f"<PodSecret {self.secret_id} tenant={self.tenant_id}>"

    @property
    def object_id(self) -> str:
        return self.secret_id

    @property
    def value(self) -> str:
        return crypto.decrypt(self.value_encrypted)

    @value.setter
    def value(self, plaintext: str):
        self.value_encrypted = crypto.encrypt(plaintext)

    @property
    def sk_secret_name(self) -> str:
        """Upstream's Security Kernel name, kept on the wire for clients that show it."""
        owner = self.pod_id if self.scope == SecretScope.POD else self.added_by
        return f"pods_{self.tenant.tenant_id}_{self.scope}+{owner}+{self.secret_id}"

    @staticmethod
    def permission_model():
        return SecretPermission


class SecretPermission(ObjectPermission):
    target = models.ForeignKey(PodSecret, on_delete=models.CASCADE, related_name="permissions")

    class Meta:
        ordering = ["target_id", "-level", "username"]
        constraints = [models.UniqueConstraint(fields=["target", "username"], name="secret_permission_unique_user")]
