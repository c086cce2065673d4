"""Registry credentials: how a tenant's pods pull images from private registries.

Site staff (admin-managed: the admin site or ``manage.py registry_credential``) give a tenant a
username and password (or token) for a registry host. The password is encrypted at rest
(``tenancy.crypto``), never shown by the API or the admin site, and reaches the cluster only
as a ``kubernetes.io/dockerconfigjson`` Secret named in the pod's ``imagePullSecrets``, for the
pods of that tenant whose image lives on that registry. A registry is ``host[:port]``, as in an
image reference (``ghcr.io``, ``registry.example.org:5000``); ``docker.io`` stands for Docker Hub
(images without a registry part).
"""
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from podspec.images import registry_of
from tenancy import crypto

REGISTRY_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def validate_registry(value: str) -> None:
    if not REGISTRY_RE.match(value or ""):
        raise ValidationError(f"{value!r} is not a registry host: host[:port] in lowercase, "
                              "e.g. ghcr.io or registry.example.org:5000 (docker.io for Docker Hub).")


class RegistryCredential(models.Model):
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="registry_credentials")
    registry = models.CharField(max_length=260, validators=[validate_registry],
                                help_text="host[:port] as in image references; docker.io for Docker Hub.")
    username = models.CharField(max_length=256)
    password_encrypted = models.TextField(editable=False)
    description = models.CharField(max_length=255, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    creation_ts = models.DateTimeField(default=timezone.now)
    update_ts = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tenant_id", "registry"]
        constraints = [models.UniqueConstraint(fields=["tenant", "registry"], name="registry_credential_unique")]

    def __str__(self):
        return f"{self.registry} ({self.tenant_id})"

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    def set_password(self, value: str) -> None:
        self.password_encrypted = crypto.encrypt(value)


def pull_credential_for(tenant, image: str) -> RegistryCredential | None:
    """The tenant's credential for the registry ``image`` is pulled from, if it has one."""
    return RegistryCredential.objects.filter(tenant=tenant, registry=registry_of(image)).first()
