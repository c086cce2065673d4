"""Per-user object permissions on pods: READ < USER < ADMIN < APPROVEDADMIN.

One row per (pod, username). The username ``*`` stands for every user of the pod's tenant
(READ at most). The creator gets ADMIN, and :mod:`pods.services.permissions` keeps at least
one ADMIN-capable user on every pod.
"""
from django.core.validators import RegexValidator
from django.db import models

from pods.choices import PermissionLevel

USERNAME_VALIDATOR = RegexValidator(
    r"^(\*|[a-zA-Z_][a-zA-Z0-9_.@-]*)$",
    "A username starts with a letter or '_' and holds letters, digits and '_.@-' (or is '*').",
)


class PodPermission(models.Model):
    pod = models.ForeignKey("pods.Pod", on_delete=models.CASCADE, related_name="permissions")
    username = models.CharField(max_length=150, validators=[USERNAME_VALIDATOR])
    level = models.PositiveSmallIntegerField(choices=PermissionLevel.choices)
    granted_by = models.CharField(max_length=150, blank=True)
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pod_id", "-level", "username"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "username"], name="pod_permission_unique_user"),
        ]
        indexes = [models.Index(fields=["username", "pod"], name="pod_permission_user_idx")]

    def __str__(self):
        return self.as_wire()

    def as_wire(self) -> str:
        """Upstream's ``"user:LEVEL"`` form."""
        return f"{self.username}:{PermissionLevel(self.level).label}"
