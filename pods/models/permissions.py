"""Per-user object permissions on pods: READ < USER < ADMIN < APPROVEDADMIN.

One row per (pod, username). The username ``*`` stands for every user of the pod's tenant
(READ at most). The creator gets ADMIN, and :mod:`pods.services.permissions` keeps at least
one ADMIN-capable user on every pod.
"""
from django.db import models

from core.permissions import ObjectPermission


class PodPermission(ObjectPermission):
    pod = models.ForeignKey("pods.Pod", on_delete=models.CASCADE, related_name="permissions")

    class Meta:
        ordering = ["pod_id", "-level", "username"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "username"], name="pod_permission_unique_user"),
        ]
        indexes = [models.Index(fields=["username", "pod"], name="pod_permission_user_idx")]
