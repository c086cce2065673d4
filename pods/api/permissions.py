"""Permission classes for pod endpoints.

Visibility is not a permission class: ``get_queryset()`` only returns pods the caller may see,
so an invisible pod is a 404 (no existence leak). These classes then compare the caller's
effective level on a *visible* pod (the ``level`` annotation from
``Pod.objects.with_level``) with what the endpoint needs: too low is a 403.
"""
from rest_framework.permissions import BasePermission

from pods.choices import PermissionLevel


class PodLevelPermission(BasePermission):
    """Base: the caller's level on the pod must be at least ``required_level``."""

    required_level = PermissionLevel.READ

    def has_object_permission(self, request, view, obj):
        have = getattr(obj, "level", 0) or 0
        if have >= self.required_level:
            return True
        have_name = PermissionLevel(have).label if have else "no"
        self.message = (f"Not authorized: this needs {self.required_level.label} permission on pod "
                        f"'{obj.pod_id}'; you have {have_name} permission.")
        return False


class CanReadPod(PodLevelPermission):
    """READ: see the pod, its logs and its derived form."""

    required_level = PermissionLevel.READ


class CanUsePod(PodLevelPermission):
    """USER: update the pod, read its credentials and permissions."""

    required_level = PermissionLevel.USER


class CanAdminPod(PodLevelPermission):
    """ADMIN: delete, start/stop/restart, change permissions."""

    required_level = PermissionLevel.ADMIN
