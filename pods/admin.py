"""Admin site registrations: pods with their events and permissions."""
from django.contrib import admin, messages

from core.errors import Conflict
from pods import services
from pods.models import Pod, PodEvent, PodPermission

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
