"""Granting and revoking pod permissions, keeping at least one ADMIN-capable user.

Rules beyond upstream's: nobody grants above their own level or changes an entry above it;
``APPROVEDADMIN`` is granted only by tenant admins in admin mode; the tenant-wide ``*`` entry
is READ at most. Changes to one pod's permissions are serialised by locking the pod row.
"""
from django.db import transaction

from core.errors import BadRequest, Forbidden
from core.permissions import PermissionLevel
from pods.models import Pod, PodEvent, PodEventKind, PodPermission

from .pods import actor_of, caller_level

ADMIN_CAPABLE = (PermissionLevel.ADMIN, PermissionLevel.APPROVEDADMIN)
LAST_ADMIN_MESSAGE = "Operation would leave the pod with no ADMIN-capable user. Rolling back."


def permission_lines(pod: Pod) -> list[str]:
    """``["alice:ADMIN", "bob:READ"]``, highest level first."""
    return [p.as_wire() for p in PodPermission.objects.filter(pod=pod).order_by("-level", "username")]


_caller_level = caller_level


def _check_admin_remains(pod: Pod) -> None:
    if not PodPermission.objects.filter(pod=pod, level__in=ADMIN_CAPABLE).exclude(username="*").exists():
        raise BadRequest(LAST_ADMIN_MESSAGE)


@transaction.atomic
def pod_permission_set(*, pod: Pod, principal, username: str, level: int) -> list[str]:
    """Give ``username`` ``level`` on ``pod`` (insert or change); returns the new permission lines."""
    caller_level = _caller_level(pod, principal)
    Pod.objects.select_for_update().filter(pk=pod.pk).first()
    if username == "*" and level > PermissionLevel.READ:
        raise BadRequest("The tenant-wide '*' entry can only be READ.")
    if level == PermissionLevel.APPROVEDADMIN and not principal.admin_mode:
        raise Forbidden("Only tenant admins in admin mode (X-Pods-Admin: true) grant APPROVEDADMIN.")
    if level > caller_level:
        raise Forbidden("You cannot grant a level above your own.")
    existing = PodPermission.objects.filter(pod=pod, username=username).first()
    if existing and existing.level > caller_level:
        raise Forbidden(f"{username}'s level is above yours; you cannot change it.")
    actor = actor_of(principal)
    PodPermission.objects.update_or_create(pod=pod, username=username,
                                           defaults={"level": level, "granted_by": actor})
    _check_admin_remains(pod)
    PodEvent.for_pod(pod, actor=actor, kind=PodEventKind.PERMISSION,
                     message=f"{actor} set {username}'s permission to {PermissionLevel(level).label}").save()
    return permission_lines(pod)


@transaction.atomic
def pod_permission_delete(*, pod: Pod, principal, username: str) -> list[str]:
    """Remove ``username``'s permission; returns the remaining permission lines."""
    caller_level = _caller_level(pod, principal)
    Pod.objects.select_for_update().filter(pk=pod.pk).first()
    existing = PodPermission.objects.filter(pod=pod, username=username).first()
    if existing is None:
        raise BadRequest(f"User '{username}' has no permission on pod '{pod.pod_id}'.")
    if existing.level > caller_level:
        raise Forbidden(f"{username}'s level is above yours; you cannot remove it.")
    existing.delete()
    _check_admin_remains(pod)
    actor = actor_of(principal)
    PodEvent.for_pod(pod, actor=actor, kind=PodEventKind.PERMISSION,
                     message=f"{actor} removed {username}'s permission").save()
    return permission_lines(pod)
