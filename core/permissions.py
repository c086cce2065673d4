"""The permission vocabulary shared by every kind of object users own (pods, templates, and
the volumes to come): levels, the per-user grant row, and the DRF class that checks a level.

Visibility is not a permission: a viewset's queryset only returns objects the caller may see,
so an invisible object is a 404 (no existence leak). The level check then runs on a *visible*
object, annotated with the caller's ``level``: too low is a 403.
"""
from django.core.validators import RegexValidator
from django.db import models
from rest_framework import serializers
from rest_framework.permissions import BasePermission


class PermissionLevel(models.IntegerChoices):
    """Object permission levels, ordered: a level grants everything below it."""

    READ = 1, "READ"
    USER = 2, "USER"
    ADMIN = 3, "ADMIN"
    APPROVEDADMIN = 4, "APPROVEDADMIN"

    @classmethod
    def from_name(cls, name: str) -> "PermissionLevel":
        """``"admin"`` → ``ADMIN``; raises KeyError for an unknown name."""
        return cls[name.strip().upper()]


USERNAME_VALIDATOR = RegexValidator(
    r"^(\*|[a-zA-Z_][a-zA-Z0-9_.@-]*)$",
    "A username starts with a letter or '_' and holds letters, digits and '_.@-' (or is '*').",
)


class ObjectPermission(models.Model):
    """One user's level on one object. Concrete subclasses add the foreign key to the object
    (and may narrow ``username``'s validators to their own grantee syntax)."""

    username = models.CharField(max_length=150, validators=[USERNAME_VALIDATOR])
    level = models.PositiveSmallIntegerField(choices=PermissionLevel.choices)
    granted_by = models.CharField(max_length=150, blank=True)
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.as_wire()

    def as_wire(self) -> str:
        """Upstream's ``"user:LEVEL"`` form."""
        return f"{self.username}:{PermissionLevel(self.level).label}"


class ObjectLevelPermission(BasePermission):
    """The caller's level on a visible object (its ``level`` annotation) must be at least
    ``required_level``; otherwise 403 naming the level needed and the level held.

    Subclass per kind of object: set ``kind`` and ``object_id()``, then one subclass per level.
    """

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


class PermissionsResponseSerializer(serializers.Serializer):
    """tapipy's ``PermissionsModel``: ``["user:LEVEL", ...]`` (documentation only)."""

    permissions = serializers.ListField(child=serializers.CharField())
