"""Admin site registrations: pods with their events and permissions; volumes, snapshots and the
tenants' storage servers."""
from django.contrib import admin, messages

from core.errors import Conflict
from core.paginator import EstimatedCountPaginator
from pods import services
from pods.models import (
    Pod,
    PodEvent,
    PodPermission,
    Snapshot,
    SnapshotPermission,
    StorageEvent,
    StorageServer,
    Volume,
    VolumePermission,
)

# --- Pods --------------------------------------------------------------------------------------
# Lifecycle changes go through the same service functions as the API (actions below); the form
# edits only descriptive fields, so nothing here bypasses the state machine or the validation.

_LIFECYCLE_FIELDS = ("uid", "k8_name", "status", "status_requested", "status_changed_at",
                     "status_container", "recent_warnings", "instance_id", "start_instance_ts",
                     "time_to_stop_ts", "health", "creation_ts", "update_ts")
_SPEC_FIELDS = ("image", "template", "template_tag", "command", "arguments", "environment_variables",
                "volume_mounts", "networking", "resources", "compute_queue", "time_to_stop_instance",
                "modified_fields")


class PodEventInline(admin.TabularInline):
    model = PodEvent
    fk_name = "pod"
    extra = 0
    can_delete = False
    fields = ("created_at", "actor", "kind", "from_status", "to_status", "message")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False


class PodPermissionInline(admin.TabularInline):
    model = PodPermission
    extra = 0
    can_delete = False
    fields = ("username", "level", "granted_by", "granted_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _admin_actor(request) -> str:
    return f"admin-site:{request.user.get_username()}"


@admin.register(Pod)
class PodAdmin(admin.ModelAdmin):
    list_display = ("pod_id", "tenant", "status", "status_requested", "image", "status_changed_at",
                    "creation_ts")
    list_filter = ("status", "status_requested", "tenant")
    search_fields = ("pod_id", "image", "description", "=uid")
    list_select_related = ("tenant",)
    # At 100,000 pods: no full COUNT(*) next to a filtered count, and the whole table's count
    # is Postgres' estimate (core/paginator.py).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("tenant__tenant_id", "pod_id")
    readonly_fields = ("tenant", "pod_id", *_LIFECYCLE_FIELDS, *_SPEC_FIELDS)
    fieldsets = (
        (None, {"fields": ("tenant", "pod_id", "description", "time_to_stop_default")}),
        ("Spec (change through the API)", {"fields": _SPEC_FIELDS}),
        ("Lifecycle", {"fields": _LIFECYCLE_FIELDS}),
    )
    inlines = [PodPermissionInline, PodEventInline]
    actions = ["start_pods", "stop_pods", "restart_pods"]

    def has_add_permission(self, request):
        return False  # pods are created through the API (validation, credentials, permissions)

    @admin.display(description="Kubernetes name")
    def k8_name(self, obj):
        return obj.k8_name

    @admin.display(description="Recent Kubernetes warnings")
    def recent_warnings(self, obj):
        """Warning events the reconciler kept for this pod (newest last)."""
        from django.utils.html import format_html_join

        warnings = (obj.health or {}).get("warnings") or []
        if not warnings:
            return "none"
        return format_html_join("", "<div>{}</div>", ((w,) for w in warnings))

    def delete_model(self, request, obj):
        services.pod_delete(pod=obj, actor=_admin_actor(request))

    def delete_queryset(self, request, queryset):
        for pod in queryset:
            services.pod_delete(pod=pod, actor=_admin_actor(request))

    def _run(self, request, queryset, verb, label):
        done, refused = 0, []
        for pod in queryset:
            try:
                verb(pod=pod, actor=_admin_actor(request))
                done += 1
            except Conflict as exc:
                refused.append(f"{pod.pod_id}: {exc.message}")
        if done:
            self.message_user(request, f"{label} {done} pod(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Start selected pods (only STOPPED ones start)")
    def start_pods(self, request, queryset):
        self._run(request, queryset, services.pod_start, "Started")

    @admin.action(description="Stop selected pods")
    def stop_pods(self, request, queryset):
        self._run(request, queryset, services.pod_stop, "Requested stop of")

    @admin.action(description="Restart selected pods")
    def restart_pods(self, request, queryset):
        self._run(request, queryset, services.pod_restart, "Requested restart of")


# --- Volumes and snapshots ---------------------------------------------------------------------
# Read-only views with usage, owners, the pods mounting them, permissions and the action log;
# the actions (measure usage, delete) call the same service functions as the API.

class _StoragePermissionInline(admin.TabularInline):
    extra = 0
    can_delete = False
    fields = ("username", "level", "granted_by", "granted_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class VolumePermissionInline(_StoragePermissionInline):
    model = VolumePermission


class SnapshotPermissionInline(_StoragePermissionInline):
    model = SnapshotPermission


class _StorageAdmin(admin.ModelAdmin):
    list_filter = ("status", "tenant")
    list_select_related = ("tenant",)
    actions = ["measure_usage", "delete_checked"]
    _common = ("uid", "status", "usage", "size_limit", "owners", "mounted_by_pods", "storage_location",
               "action_log", "creation_ts", "update_ts")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("permissions")

    def has_add_permission(self, request):
        return False  # created through the API (quota, permissions, the directory)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion goes through the service (409 when mounted)
        return actions

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="usage")
    def usage(self, obj):
        measured = f" (measured {obj.measured_at:%Y-%m-%d %H:%M})" if obj.measured_at else " (not measured yet)"
        return f"{obj.size_bytes} bytes of {obj.size_limit} MB{measured}"

    @admin.display(description="owners (ADMIN)")
    def owners(self, obj):
        return ", ".join(sorted(p.username for p in obj.permissions.all() if p.level >= 3)) or "none"

    @admin.display(description="mounted by running pods")
    def mounted_by_pods(self, obj):
        from pods.services.storage import pods_mounting

        return ", ".join(pods_mounting(obj)) or "none"

    @admin.display(description="directory on the tenant's storage server")
    def storage_location(self, obj):
        return f"/exports/{obj.storage_path}"

    @admin.display(description="action log")
    def action_log(self, obj):
        from django.utils.html import format_html_join

        events = StorageEvent.objects.filter(object_uid=obj.uid).order_by("created_at", "id")
        return format_html_join("", "<div>{}</div>", ((e.as_action_log(),) for e in events)) or "empty"

    @admin.action(description="Measure usage now (du in the storage server)")
    def measure_usage(self, request, queryset):
        from pods.services.files import refresh_usage

        for obj in queryset.select_related("tenant"):
            refresh_usage(obj)
        self.message_user(request, f"Measured {queryset.count()} object(s) (servers not running are skipped).")

    @admin.action(description="Delete selected (refused while a running pod mounts one)")
    def delete_checked(self, request, queryset):
        deleted, refused = 0, []
        for obj in queryset.select_related("tenant"):
            try:
                self.delete_service(obj, _admin_actor(request))
                deleted += 1
            except Conflict as exc:
                refused.append(exc.message)
        if deleted:
            self.message_user(request, f"Deleted {deleted} object(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)


@admin.register(Volume)
class VolumeAdmin(_StorageAdmin):
    list_display = ("volume_id", "tenant", "status", "size_bytes", "size_limit", "creation_ts")
    search_fields = ("volume_id", "description", "=uid")
    ordering = ("tenant__tenant_id", "volume_id")
    readonly_fields = ("tenant", "volume_id", "description", *_StorageAdmin._common)
    inlines = [VolumePermissionInline]

    @staticmethod
    def delete_service(obj, actor):
        services.volume_delete(volume=obj, actor=actor)


@admin.register(Snapshot)
class SnapshotAdmin(_StorageAdmin):
    list_display = ("snapshot_id", "tenant", "source_volume_id", "status", "size_bytes", "size_limit",
                    "creation_ts")
    search_fields = ("snapshot_id", "source_volume_id", "description", "=uid")
    ordering = ("tenant__tenant_id", "snapshot_id")
    readonly_fields = ("tenant", "snapshot_id", "source_volume_id", "source_volume_path", "destination_path",
                       "description", *_StorageAdmin._common)
    inlines = [SnapshotPermissionInline]

    @staticmethod
    def delete_service(obj, actor):
        services.snapshot_delete(snapshot=obj, actor=actor)


@admin.register(StorageServer)
class StorageServerAdmin(admin.ModelAdmin):
    list_display = ("tenant", "status", "pod_name", "cluster_ip", "last_used_at", "ready_at")
    readonly_fields = ("tenant", "status", "pod_name", "cluster_ip", "last_used_at", "ready_at", "message")

    def has_add_permission(self, request):
        return False
