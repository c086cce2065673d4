"""``/v3/pods/secrets``: upstream's per-user secrets API (list, create, get, value, update,
delete, permissions). Levels as upstream: READ to see a secret's metadata, USER to read its value
(if ``readable``) and change it (if ``writable``) and to see its permissions, ADMIN to delete it
and change its permissions. The value appears in one response only: ``get_secret_value``.
"""
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from core.datetimes import wire_datetime
from core.envelope import ok
from core.fields import StrictBooleanField, StrictCharField, StrictSerializer
from core.permissions import PermissionsResponseSerializer
from pods.models import PodSecret, SecretScope, StorageEvent
from pods.services import secrets

from .serializers import SetPermissionSerializer
from .storage_views import CanAdmin, CanRead, CanUse, _StorageViewSet

SECRET_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_SECRET_VALUE = 65536


def _check_secret_id(value):
    if not SECRET_ID_RE.match(value):
        raise serializers.ValidationError("Letters, digits, '_' and '-' only.")
    return value


def _ascii(value):
    if not value.isascii():
        raise serializers.ValidationError("ASCII characters only.")
    return value


class NewSecretSerializer(StrictSerializer):
    """Upstream's ``NewSecret``."""

    secret_id = StrictCharField(min_length=1, max_length=109, validators=[_check_secret_id])
    secret_value = StrictCharField(max_length=MAX_SECRET_VALUE, trim_whitespace=False, write_only=True)
    description = StrictCharField(required=False, allow_blank=True, max_length=500, validators=[_ascii])
    scope = serializers.ChoiceField(choices=SecretScope.choices, required=False, default=SecretScope.USER)
    pod_id = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=64)
    readable = StrictBooleanField(required=False, default=True)
    writable = StrictBooleanField(required=False, default=True)

    def validate(self, attrs):
        if attrs.get("scope") == SecretScope.POD and not attrs.get("pod_id"):
            raise serializers.ValidationError({"pod_id": ["Required when scope is 'pod'."]})
        if attrs.get("scope", SecretScope.USER) == SecretScope.USER and attrs.get("pod_id"):
            raise serializers.ValidationError({"pod_id": ["Only with scope 'pod'."]})
        return attrs


class UpdateSecretSerializer(StrictSerializer):
    """Upstream's ``UpdateSecret``."""

    description = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=500,
                                  validators=[_ascii])
    secret_value = StrictCharField(required=False, allow_null=True, max_length=MAX_SECRET_VALUE,
                                   trim_whitespace=False, write_only=True)


SecretResponseSerializer = inline_serializer("SecretResponseModel", {
    "secret_id": serializers.CharField(), "scope": serializers.CharField(),
    "pod_id": serializers.CharField(allow_null=True), "description": serializers.CharField(),
    "readable": serializers.BooleanField(), "writable": serializers.BooleanField(),
    "sk_secret_name": serializers.CharField(), "creation_ts": serializers.DateTimeField(),
    "added_by": serializers.CharField()})


def render_secret(secret: PodSecret) -> dict:
    """Upstream's ``SecretResponseModel``: metadata, never the value."""
    return {"secret_id": secret.secret_id, "scope": secret.scope, "pod_id": secret.pod_id or None,
            "description": secret.description, "readable": secret.readable, "writable": secret.writable,
            "sk_secret_name": secret.sk_secret_name, "creation_ts": wire_datetime(secret.creation_ts),
            "added_by": secret.added_by}


class SecretViewSet(_StorageViewSet):
    model = PodSecret
    lookup_field = "secret_id"
    noun = "Secret"
    render = staticmethod(render_secret)
    metadata_class = None  # OPTIONS: 405, as for the other manually routed views
    level_for_action = {
        "retrieve": CanRead,
        "value": CanUse, "update": CanUse, "permissions": CanUse,
        "destroy": CanAdmin, "set_permission": CanAdmin, "delete_permission": CanAdmin,
    }

    @extend_schema(operation_id="list_secrets", responses=SecretResponseSerializer)
    def list(self, request):
        rows = PodSecret.objects.visible_to(request.user).select_related("tenant").order_by("secret_id")
        return ok([render_secret(row) for row in rows], "Secrets retrieved successfully.")

    @extend_schema(operation_id="create_secret", request=NewSecretSerializer, responses=SecretResponseSerializer)
    def create(self, request):
        data = self._validated(NewSecretSerializer, request.data)
        secret = secrets.secret_create(principal=request.user, data=data)
        return ok(render_secret(secret), "Secret created successfully.")

    @extend_schema(operation_id="get_secret", responses=SecretResponseSerializer)
    def retrieve(self, request, secret_id=None):
        secret = self.get_object()
        events = StorageEvent.objects.filter(object_uid=secret.uid).order_by("created_at", "id")
        return ok(render_secret(secret), "Secret metadata retrieved successfully.",
                  {"action_logs": [e.as_action_log() for e in events]})

    @extend_schema(operation_id="get_secret_value",
                   responses=inline_serializer("SecretValue", {"secret_value": serializers.CharField()}))
    def value(self, request, secret_id=None):
        value = secrets.secret_read_value(secret=self.get_object(), principal=request.user)
        return ok({"secret_value": value}, "Secret value retrieved successfully.")

    @extend_schema(operation_id="update_secret", request=UpdateSecretSerializer, responses=SecretResponseSerializer)
    def update(self, request, secret_id=None):
        secret = self.get_object()
        data = self._validated(UpdateSecretSerializer, request.data)
        secret = secrets.secret_update(secret=secret, principal=request.user, data=data)
        return ok(render_secret(secret), "Secret updated successfully.")

    @extend_schema(operation_id="delete_secret", responses=OpenApiTypes.STR)
    def destroy(self, request, secret_id=None):
        secret = self.get_object()
        secrets.secret_delete(secret=secret, principal=request.user)
        return ok(secret_id, "Secret deleted successfully.")

    @extend_schema(operation_id="get_secret_permissions", responses=PermissionsResponseSerializer)
    def permissions(self, request, secret_id=None):
        return self._permissions_get()

    @extend_schema(operation_id="set_secret_permission", request=SetPermissionSerializer,
                   responses=PermissionsResponseSerializer)
    def set_permission(self, request, secret_id=None):
        return self._permissions_set(request)

    @extend_schema(operation_id="delete_secret_permission", responses=PermissionsResponseSerializer)
    def delete_permission(self, request, secret_id=None, user=None):
        return self._permissions_delete(request, user)
