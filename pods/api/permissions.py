"""Permission classes for pod endpoints.

Visibility is not a permission class: ``get_queryset()`` only returns pods the caller may see,
so an invisible pod is a 404 (no existence leak). These classes then compare the caller's
effective level on a *visible* pod (the ``level`` annotation from
``Pod.objects.with_level``) with what the endpoint needs: too low is a 403.
"""
from rest_framework.permissions import BasePermission

from core.permissions import PermissionLevel


class ObjectLevelPermission(BasePermission):
    """Base: the caller's level on a visible object (its ``level`` annotation) must be at least
    ``required_level``; otherwise 403 naming the level needed and the level held."""

    required_level = PermissionLevel.READ
    kind = "object"

    def object_id(self, obj) -> str:
        raise NotImplementedError

    def refusal(self, obj, have: int) -> str:
        have_name = PermissionLevel(have).label if have else "no"
        return (f"Not authorized: this needs {self.required_level.label} permission on {self.kind} "
                f"'{self.object_id(obj)}'; you have {have_name} permission.")

    def has_object_permission(self, request, view, obj):
        have = getattr(obj, "level", 0) or 0
        if have >= self.required_level:
            return True
        self.message = self.refusal(obj, have)
        return False


class PodLevelPermission(ObjectLevelPermission):
    """Base of the pod permissions."""

    kind = "pod"

    def object_id(self, obj) -> str:
        return obj.pod_id


class CanReadPod(PodLevelPermission):
    """READ: see the pod, its logs and its derived form."""

    required_level = PermissionLevel.READ


class CanUsePod(PodLevelPermission):
    """USER: update the pod, read its credentials and permissions."""

    required_level = PermissionLevel.USER


class CanAdminPod(PodLevelPermission):
    """ADMIN: delete, start/stop/restart, change permissions."""

    required_level = PermissionLevel.ADMIN
