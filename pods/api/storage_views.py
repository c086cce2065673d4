"""The volume and snapshot endpoints: tapipy's ``t.pods.*_volume*`` and ``*_snapshot*`` operations.

Same shape as the pods endpoints: the queryset scopes by tenant and permission (invisible →
404), a level class checks the caller's level (too low → 403), one service call, render.
Levels: READ to see an object and list its files (and read a snapshot's contents); USER to
update it, read its permissions and a volume's contents, and upload; ADMIN to delete it and
change its permissions.
"""
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated

from core.envelope import no_changes_message, ok
from core.fields import QueryFlag
from core.permissions import (
    ObjectLevelPermission,
    PermissionLevel,
    PermissionsResponseSerializer,
)
from pods.models import Snapshot, StorageEvent, Volume
from pods.services import files, storage
from pods.services.pods import actor_of

from .serializers import SetPermissionSerializer
from .storage_serializers import (
    FileResponseSerializer,
    NewSnapshotSerializer,
    NewVolumeSerializer,
    SnapshotResponseSerializer,
    UpdateSnapshotSerializer,
    UpdateVolumeSerializer,
    VolumeResponseSerializer,
    render_snapshot,
    render_volume,
    usage_metadata,
)
from .uploads import forward_upload


class _StorageLevel(ObjectLevelPermission):
    def object_id(self, obj) -> str:
        return obj.object_id

    def refusal(self, obj, have: int) -> str:
        self.kind = obj.kind
        return super().refusal(obj, have)


class CanRead(_StorageLevel):
    required_level = PermissionLevel.READ


class CanUse(_StorageLevel):
    required_level = PermissionLevel.USER


class CanAdmin(_StorageLevel):
    required_level = PermissionLevel.ADMIN


PATH_PARAM = OpenApiParameter("path", OpenApiTypes.STR, OpenApiParameter.PATH,
                              description="Path relative to the object's root (not empty, not '/').")
ZIP_PARAM = OpenApiParameter("zip", OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False,
                             description="Send a directory as a zip archive.")
LIST_PATH_PARAM = OpenApiParameter("path", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                                   description="A directory below the root to list (default: the root).")


class _StorageViewSet(viewsets.GenericViewSet):
    model = None
    lookup_value_regex = "[^/]+"
    level_for_action = {}
    render = None
    noun = ""

    def get_queryset(self):
        principal = self.request.user
        if principal is None or not principal.is_authenticated:  # schema generation
            return self.model.objects.none()
        return self.model.objects.visible_to(principal).with_level(principal).select_related("tenant")

    def get_permissions(self):
        name = self.action
        if name == "permissions" and self.request.method == "POST":
            name = "set_permission"
        level = self.level_for_action.get(name)
        return [IsAuthenticated()] + ([level()] if level else [])

    def get_object(self):
        object_id = self.kwargs[self.lookup_field]
        obj = self.get_queryset().filter(**{self.lookup_field: object_id}).first()
        if obj is None:
            raise exceptions.NotFound(f"{self.noun} with identifier {self.lookup_field}: '{object_id}' not found.")
        self.check_object_permissions(self.request, obj)
        return obj

    @staticmethod
    def _validated(serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _list(self):
        rows = self.model.objects.visible_to(self.request.user).order_by(self.lookup_field)
        return [type(self).render(row) for row in rows]

    def _retrieve(self):
        obj = self.get_object()
        files.refresh_usage(obj)
        events = StorageEvent.objects.filter(object_uid=obj.uid).order_by("created_at", "id")
        return ok(type(self).render(obj), f"{self.noun} retrieved successfully.",
                  {**usage_metadata(obj), "action_logs": [e.as_action_log() for e in events]})

    def _permissions_get(self):
        return ok({"permissions": storage.storage_permission_lines(self.get_object())},
                  f"{self.noun} permissions retrieved successfully.")

    def _permissions_set(self, request):
        obj = self.get_object()
        data = self._validated(SetPermissionSerializer, request.data)
        lines = storage.storage_permission_set(obj=obj, principal=request.user, username=data["user"],
                                               level=data["level"])
        return ok({"permissions": lines}, f"{self.noun} permissions updated successfully.")

    def _permissions_delete(self, request, user):
        lines = storage.storage_permission_delete(obj=self.get_object(), principal=request.user, username=user)
        return ok({"permissions": lines}, f"{self.noun} permission deleted successfully.")

    def _files(self, request):
        obj = self.get_object()
        entries = files.list_files(obj, request.query_params.get("path", ""))
        return ok([files.render_file(e) for e in entries], f"{self.noun} file listing retrieved successfully.")

    def _contents(self, request, path):
        obj = self.get_object()
        download = files.open_contents(obj, path, as_zip=QueryFlag.read(request, "zip"))
        response = StreamingHttpResponse(download.chunks, content_type=download.content_type)
        response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
        response[f"X-{obj.kind.capitalize()}-Id"] = obj.object_id
        return response


class VolumeViewSet(_StorageViewSet):
    model = Volume
    lookup_field = "volume_id"
    noun = "Volume"
    render = staticmethod(render_volume)
    serializer_class = VolumeResponseSerializer
    level_for_action = {
        "retrieve": CanRead, "files": CanRead,
        "update": CanUse, "permissions": CanUse, "contents": CanUse, "upload": CanUse,
        "destroy": CanAdmin, "set_permission": CanAdmin, "delete_permission": CanAdmin,
    }

    @extend_schema(operation_id="list_volumes", responses=VolumeResponseSerializer(many=True))
    def list(self, request):
        return ok(self._list(), "Volumes retrieved successfully.")

    @extend_schema(operation_id="create_volume", request=NewVolumeSerializer, responses=VolumeResponseSerializer)
    def create(self, request):
        data = self._validated(NewVolumeSerializer, request.data)
        volume = storage.volume_create(principal=request.user, data=data)
        volume = files.prepare_volume(volume)
        return ok(render_volume(volume), "Volume created successfully.")

    @extend_schema(operation_id="get_volume", responses=VolumeResponseSerializer)
    def retrieve(self, request, volume_id=None):
        return self._retrieve()

    @extend_schema(operation_id="update_volume", request=UpdateVolumeSerializer, responses=VolumeResponseSerializer)
    def update(self, request, volume_id=None):
        volume = self.get_object()
        data = self._validated(UpdateVolumeSerializer, request.data)
        volume, changed = storage.volume_update(volume=volume, principal=request.user, data=data)
        if not changed:
            return ok(render_volume(volume), no_changes_message("volume"),
                      {"changed_fields": []})
        return ok(render_volume(volume), "Volume updated successfully.", {"changed_fields": changed})

    @extend_schema(operation_id="delete_volume", responses=OpenApiTypes.STR)
    def destroy(self, request, volume_id=None):
        storage.volume_delete(volume=self.get_object(), actor=actor_of(request.user))
        return ok("", "Volume successfully deleted.")

    @extend_schema(operation_id="list_volume_files", responses=FileResponseSerializer(many=True),
                   parameters=[LIST_PATH_PARAM])
    @action(detail=True, methods=["get"], url_path="list")
    def files(self, request, volume_id=None):
        return self._files(request)

    @extend_schema(operation_id="get_volume_contents", parameters=[PATH_PARAM, ZIP_PARAM],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"contents/(?P<path>.*)")
    def contents(self, request, volume_id=None, path=None):
        return self._contents(request, path)

    @extend_schema(operation_id="upload_to_volume", parameters=[PATH_PARAM], responses=OpenApiTypes.STR,
                   request={"multipart/form-data": {"type": "object", "properties": {
                       "file": {"type": "string", "format": "binary"}}, "required": ["file"]}})
    @action(detail=True, methods=["post"], url_path=r"upload/(?P<path>.*)",
            parser_classes=[MultiPartParser])
    def upload(self, request, volume_id=None, path=None):
        volume = self.get_object()
        length = request.META.get("CONTENT_LENGTH")
        handler = forward_upload(request, lambda: files.volume_upload_writer(
            volume, path, content_length=int(length) if length and length.isdigit() else None,
            principal=request.user))
        written = handler.writer.commit()
        return ok(f"Uploaded {written} bytes to {path}.", "Volume file upload successful.",
                  {"bytes": written, "path": path})

    @extend_schema(operation_id="get_volume_permissions", responses=PermissionsResponseSerializer)
    @action(detail=True, methods=["get"])
    def permissions(self, request, volume_id=None):
        return self._permissions_get()

    @extend_schema(operation_id="set_volume_permission", request=SetPermissionSerializer,
                   responses=PermissionsResponseSerializer)
    @permissions.mapping.post
    def set_permission(self, request, volume_id=None):
        return self._permissions_set(request)

    @extend_schema(operation_id="delete_volume_permission", responses=PermissionsResponseSerializer,
                   parameters=[OpenApiParameter("user", OpenApiTypes.STR, OpenApiParameter.PATH)])
    @action(detail=True, methods=["delete"], url_path=r"permissions/(?P<user>[^/]+)")
    def delete_permission(self, request, volume_id=None, user=None):
        return self._permissions_delete(request, user)


class SnapshotViewSet(_StorageViewSet):
    model = Snapshot
    lookup_field = "snapshot_id"
    noun = "Snapshot"
    render = staticmethod(render_snapshot)
    serializer_class = SnapshotResponseSerializer
    level_for_action = {
        "retrieve": CanRead, "files": CanRead, "contents": CanRead,
        "update": CanUse, "permissions": CanUse,
        "destroy": CanAdmin, "set_permission": CanAdmin, "delete_permission": CanAdmin,
    }

    @extend_schema(operation_id="list_snapshots", responses=SnapshotResponseSerializer(many=True))
    def list(self, request):
        return ok(self._list(), "Snapshots retrieved successfully.")

    @extend_schema(operation_id="create_snapshot", request=NewSnapshotSerializer, responses=SnapshotResponseSerializer)
    def create(self, request):
        data = self._validated(NewSnapshotSerializer, request.data)
        snapshot = files.snapshot_create_and_copy(principal=request.user, data=data)
        return ok(render_snapshot(snapshot), "Snapshot created successfully.")

    @extend_schema(operation_id="get_snapshot", responses=SnapshotResponseSerializer)
    def retrieve(self, request, snapshot_id=None):
        return self._retrieve()

    @extend_schema(operation_id="update_snapshot", request=UpdateSnapshotSerializer,
                   responses=SnapshotResponseSerializer)
    def update(self, request, snapshot_id=None):
        snapshot = self.get_object()
        data = self._validated(UpdateSnapshotSerializer, request.data)
        snapshot, changed = storage.snapshot_update(snapshot=snapshot, principal=request.user, data=data)
        if not changed:
            return ok(render_snapshot(snapshot), no_changes_message("snapshot"),
                      {"changed_fields": []})
        return ok(render_snapshot(snapshot), "Snapshot updated successfully.", {"changed_fields": changed})

    @extend_schema(operation_id="delete_snapshot", responses=OpenApiTypes.STR)
    def destroy(self, request, snapshot_id=None):
        storage.snapshot_delete(snapshot=self.get_object(), actor=actor_of(request.user))
        return ok("", "Snapshot successfully deleted.")

    @extend_schema(operation_id="list_snapshot_files", responses=FileResponseSerializer(many=True),
                   parameters=[LIST_PATH_PARAM])
    @action(detail=True, methods=["get"], url_path="list")
    def files(self, request, snapshot_id=None):
        return self._files(request)

    @extend_schema(operation_id="get_snapshot_contents", parameters=[PATH_PARAM, ZIP_PARAM],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"contents/(?P<path>.*)")
    def contents(self, request, snapshot_id=None, path=None):
        return self._contents(request, path)

    @extend_schema(operation_id="get_snapshot_permissions", responses=PermissionsResponseSerializer)
    @action(detail=True, methods=["get"])
    def permissions(self, request, snapshot_id=None):
        return self._permissions_get()

    @extend_schema(operation_id="set_snapshot_permission", request=SetPermissionSerializer,
                   responses=PermissionsResponseSerializer)
    @permissions.mapping.post
    def set_permission(self, request, snapshot_id=None):
        return self._permissions_set(request)

    @extend_schema(operation_id="delete_snapshot_permission", responses=PermissionsResponseSerializer,
                   parameters=[OpenApiParameter("user", OpenApiTypes.STR, OpenApiParameter.PATH)])
    @action(detail=True, methods=["delete"], url_path=r"permissions/(?P<user>[^/]+)")
    def delete_permission(self, request, snapshot_id=None, user=None):
        return self._permissions_delete(request, user)
