"""Admin site registrations: pods (status at a glance, buttons, logs, events, permissions); volumes, snapshots and the
tenants' storage servers."""
import json

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.errors import Conflict
from core.paginator import EstimatedCountPaginator
from pods import services
from pods.choices import IN_FLIGHT, PodStatus, RequestedStatus
from pods.models import (
    Pod,
    PodLogRun,
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
# Lifecycle changes go through the same service functions as the API (actions and the pod page's
# buttons); the form edits only descriptive fields, so nothing here bypasses the state machine or
# the validation. Every column of the list comes from the row itself or its tenant (joined):
# no per-row query.

_LIFECYCLE_FIELDS = ("uid", "status_badge", "status_requested", "status_changed_at", "status_message",
                     "recent_warnings", "last_log_lines", "instance_id", "start_instance_ts",
                     "time_to_stop_ts", "creation_ts", "update_ts", "created_by")
_SPEC_FIELDS = ("image", "template", "template_tag", "compute_queue", "time_to_stop_instance",
                "command_pretty", "arguments_pretty", "environment_pretty", "volume_mounts_pretty",
                "networking_pretty", "resources_pretty", "modified_fields_pretty")
_KUBE_FIELDS = ("kubernetes_names", "urls_list", "derived_spec_pretty", "status_container_pretty",
                "health_pretty")
STATUS_COLOURS = {"AVAILABLE": "ok", "ERROR": "error", "COMPLETE": "done", "STOPPED": "idle",
                  "REQUESTED": "busy", "SPAWNER SETUP": "busy", "CREATING": "busy", "DELETING": "busy"}


def status_badge_html(status: str):
    return format_html('<span class="pods-badge pods-badge-{}">{}</span>', STATUS_COLOURS.get(status, "idle"),
                       status)


def pretty(value) -> str:
    """JSON (or text with real line breaks) readable in a <pre>."""
    if value in (None, "", {}, []):
        return format_html('<span class="pods-muted">{}</span>', "none")
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, default=str)
    return format_html('<pre class="pods-pre">{}</pre>', text)


class PodEventInline(admin.TabularInline):
    model = PodEvent
    fk_name = "pod"
    extra = 0
    can_delete = False
    verbose_name_plural = "Events (action log)"
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


# The admin's own verbs: what each does, in the words of the admin (its buttons and actions).
_VERBS = {
    "start": ("Start", services.pod_start, "started"),
    "stop": ("Stop", services.pod_stop, "asked to stop"),
    "restart": ("Restart", services.pod_restart, "asked to restart"),
}


def _unchanged_reason(verb: str, pod: Pod) -> str | None:
    """Why ``verb`` would change nothing on ``pod`` (then it is skipped, and not counted)."""
    if verb == "stop" and pod.status_requested == RequestedStatus.OFF and pod.status in (
            PodStatus.STOPPED, PodStatus.DELETING):
        return f"{pod.pod_id} is already {pod.status.lower()}"
    if verb == "start" and pod.status != PodStatus.STOPPED:
        hint = " (use Restart for a running pod)" if pod.status in IN_FLIGHT else \
            " (use Restart to run it again)"
        return f"{pod.pod_id} was not started: it is {pod.status}, only STOPPED pods start{hint}"
    return None


def run_verb(request, verb: str, pods) -> tuple[list, list]:
    """Apply one admin verb to pods through the service functions: (changed ids, skipped reasons)."""
    _, function, _ = _VERBS[verb]
    changed, skipped = [], []
    for pod in pods:
        reason = _unchanged_reason(verb, pod)
        if reason is None:
            try:
                function(pod=pod, actor=_admin_actor(request))
                changed.append(pod.pod_id)
                continue
            except Conflict:
                fresh = Pod.objects.filter(pk=pod.pk).values_list("status", flat=True).first()
                reason = f"{pod.pod_id} was not changed: it is {fresh} now"
        skipped.append(reason)
    return changed, skipped


def report_verb(admin_obj, request, verb: str, changed: list, skipped: list) -> None:
    label, _, done = _VERBS[verb]
    if changed:
        names = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if len(changed) > 10 else "")
        admin_obj.message_user(request, f"{label}: {len(changed)} pod{'s' if len(changed) != 1 else ''} "
                                        f"{done} ({names}).", messages.SUCCESS)
    elif not skipped:
        admin_obj.message_user(request, f"{label}: no pod selected.", messages.INFO)
    for line in skipped:
        admin_obj.message_user(request, f"{label}: {line}.", messages.WARNING)


@admin.register(Pod)
class PodAdmin(admin.ModelAdmin):
    list_display = ("pod_id_short", "tenant_link", "status_badge", "reason", "owner", "image_or_template", "links",
                    "changed")
    list_display_links = ("pod_id_short",)
    list_filter = ("status", "tenant", "template", "status_requested")
    search_fields = ("pod_id", "=tenant__tenant_id", "created_by", "image", "template", "description", "=uid")
    search_help_text = "Pod id, tenant id (exact), owner, image, template, description or uid (exact)."
    list_select_related = ("tenant",)
    list_per_page = 50
    # At 100,000 pods: no full COUNT(*) next to a filtered count, and the whole table's count
    # is Postgres' estimate (core/paginator.py).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("tenant__tenant_id", "pod_id")
    readonly_fields = ("tenant", "pod_id", *_LIFECYCLE_FIELDS, *_SPEC_FIELDS, *_KUBE_FIELDS)
    fieldsets = (
        (None, {"fields": ("tenant", "pod_id", "description", "time_to_stop_default")}),
        ("Status", {"fields": _LIFECYCLE_FIELDS}),
        ("Kubernetes", {"fields": _KUBE_FIELDS}),
        ("Spec (change it through the API)", {"fields": _SPEC_FIELDS}),
    )
    inlines = [PodPermissionInline, PodEventInline]
    actions = ["start_pods", "stop_pods", "restart_pods"]
    change_form_template = "pods/admin/pod_change_form.html"

    def has_add_permission(self, request):
        return False  # pods are created through the API (validation, credentials, permissions)

    # --- list columns (each kept narrow: the list fits 1280 px beside its filters) -----------------
    @admin.display(description="pod id", ordering="pod_id")
    def pod_id_short(self, obj):
        return format_html('<span class="pods-trunc pods-id" title="{}">{}</span>', obj.pod_id, obj.pod_id)

    @admin.display(description="changed", ordering="status_changed_at")
    def changed(self, obj):
        """How long the pod has had its status (the exact time is in the tooltip)."""
        seconds = int((timezone.now() - obj.status_changed_at).total_seconds())
        age = (f"{seconds} s" if seconds < 120 else f"{seconds // 60} min" if seconds < 7200
               else f"{seconds // 3600} h" if seconds < 172800 else f"{seconds // 86400} d")
        return format_html('<span title="{}">{} ago</span>', obj.status_changed_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                           age)

    @admin.display(description="tenant", ordering="tenant__tenant_id")
    def tenant_link(self, obj):
        return obj.tenant.tenant_id

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge_html(obj.status)

    @admin.display(description="reason")
    def reason(self, obj):
        """Why a pod failed (or what it waits for), short; the full message is on its page."""
        if obj.status not in (PodStatus.ERROR, PodStatus.CREATING, PodStatus.COMPLETE):
            return ""
        container = obj.status_container or {}
        message = (container.get("message") or "").split("\n", 1)[0]
        short = message if len(message) <= 70 else message[:67] + "…"
        return format_html('<span class="pods-reason" title="{}"><b>{}</b> {}</span>', message,
                           container.get("reason") or "", short)

    @admin.display(description="owner", ordering="created_by")
    def owner(self, obj):
        return format_html('<span class="pods-trunc pods-owner" title="{}">{}</span>', obj.created_by, obj.created_by)

    @admin.display(description="image / template")
    def image_or_template(self, obj):
        text = obj.template or obj.image
        return format_html('<span class="pods-trunc" title="{}">{}</span>', text, text)

    @admin.display(description="URLs")
    def links(self, obj):
        urls = [(key, url) for key, url in obj.urls().items() if url]
        return format_html_join(" ", '<a href="https://{}" target="_blank" rel="noopener" title="{}">{}</a>',
                                ((url, url, key) for key, url in urls)) or ""

    # --- pod page ---------------------------------------------------------------------------------
    @admin.display(description="status message")
    def status_message(self, obj):
        return pretty((obj.status_container or {}).get("message") or "")

    @admin.display(description="Kubernetes objects")
    def kubernetes_names(self, obj):
        name = obj.k8_name
        return format_html("Pod <code>{}</code> and Service <code>{}</code> in namespace <code>{}</code>; "
                           "its NetworkPolicy and Secrets carry the label <code>pods-service/pod-uid={}</code>",
                           name, name, settings.PODS_KUBE_NAMESPACE, obj.uid)

    @admin.display(description="URLs")
    def urls_list(self, obj):
        urls = [(key, url) for key, url in obj.urls().items() if url]
        return format_html_join(mark_safe("<br>"), '{}: <a href="https://{}" target="_blank" rel="noopener">https://{}</a>',
                                ((key, url, url) for key, url in urls)) or "none"

    @admin.display(description="Recent Kubernetes warnings")
    def recent_warnings(self, obj):
        """Warning events the reconciler kept for this pod (newest last; kept for failed pods too)."""
        warnings = (obj.health or {}).get("warnings") or []
        if not warnings:
            return "none recorded"
        return format_html('<ul class="pods-list">{}</ul>',
                           format_html_join("", "<li>{}</li>", ((w,) for w in warnings)))

    @admin.display(description="last log lines")
    def last_log_lines(self, obj):
        run = obj.log_runs.order_by("-started_at", "-id").first() if obj.pk else None
        logs_url = reverse("admin:pods_pod_logs", args=[obj.pk]) if obj.pk else ""
        if run is None or not run.text:
            return format_html('<span class="pods-muted">no logs collected yet</span> · <a href="{}">logs view</a>',
                               logs_url)
        tail = "\n".join(run.text.rstrip("\n").split("\n")[-20:])
        return format_html('<pre class="pods-pre pods-log">{}</pre><a href="{}">All logs of every run</a>',
                           tail, logs_url)

    @admin.display(description="derived spec (templates merged; placeholders not resolved)")
    def derived_spec_pretty(self, obj):
        from pods.derive import derived_spec

        try:
            derived = derived_spec(obj)
        except Exception as exc:  # noqa: BLE001 — a broken template chain is shown, not raised
            return format_html('<span class="pods-muted">cannot be derived: {}</span>', exc)
        value = {"spec": derived.spec, "from": derived.provenance, "template chain": derived.chain}
        return pretty(value)

    def _pretty_field(name, label):
        def show(self, obj):
            return pretty(getattr(obj, name))
        show.short_description = label
        return show

    command_pretty = _pretty_field("command", "command")
    arguments_pretty = _pretty_field("arguments", "arguments")
    environment_pretty = _pretty_field("environment_variables", "environment variables")
    volume_mounts_pretty = _pretty_field("volume_mounts", "volume mounts")
    networking_pretty = _pretty_field("networking", "networking")
    resources_pretty = _pretty_field("resources", "resources")
    modified_fields_pretty = _pretty_field("modified_fields", "set by the user (the rest comes from the template)")
    status_container_pretty = _pretty_field("status_container", "status_container (as the API returns it)")
    health_pretty = _pretty_field("health", "worker bookkeeping")
    del _pretty_field

    # --- buttons and the logs view -----------------------------------------------------------------
    def get_urls(self):
        own = [
            path("<int:pk>/lifecycle/<str:verb>/", self.admin_site.admin_view(self.lifecycle_view),
                 name="pods_pod_lifecycle"),
            path("<int:pk>/logs/", self.admin_site.admin_view(self.logs_view), name="pods_pod_logs"),
        ]
        return own + super().get_urls()

    def lifecycle_view(self, request, pk, verb):
        """The pod page's Start / Stop / Restart buttons (POST), through the service functions."""
        pod = get_object_or_404(Pod.objects.select_related("tenant"), pk=pk)
        if request.method != "POST" or verb not in _VERBS:
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, pod):
            raise PermissionDenied
        changed, skipped = run_verb(request, verb, [pod])
        report_verb(self, request, verb, changed, skipped)
        return HttpResponseRedirect(reverse("admin:pods_pod_change", args=[pod.pk]))

    def logs_view(self, request, pk):
        """Every stored run of the pod, newest first; one run's full text with ``?run=<instance>``."""
        pod = get_object_or_404(Pod.objects.select_related("tenant"), pk=pk)
        if not self.has_view_permission(request, pod):
            raise PermissionDenied
        runs = list(pod.log_runs.order_by("-started_at", "-id").defer("text"))
        wanted = request.GET.get("run") or (str(runs[0].instance_id) if runs else "")
        selected = next((r for r in runs if str(r.instance_id) == wanted), None)
        if wanted and selected is None and runs:
            raise Http404("No such run of this pod.")
        text = PodLogRun.objects.filter(pk=selected.pk).values_list("text", flat=True).first() if selected else ""
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": pod,
                   "title": f"Logs of {pod.pod_id}", "runs": runs, "selected": selected, "text": text,
                   "current_instance": str(pod.instance_id or "")}
        return TemplateResponse(request, "pods/admin/pod_logs.html", context)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["lifecycle_buttons"] = [
                (verb, label, reverse("admin:pods_pod_lifecycle", args=[obj.pk, verb]))
                for verb, (label, _, _) in _VERBS.items()]
            context["logs_url"] = reverse("admin:pods_pod_logs", args=[obj.pk])
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    # --- delete and the bulk actions ---------------------------------------------------------------
    def delete_model(self, request, obj):
        services.pod_delete(pod=obj, actor=_admin_actor(request))

    def delete_queryset(self, request, queryset):
        for pod in queryset:
            services.pod_delete(pod=pod, actor=_admin_actor(request))

    @admin.action(description="Start selected pods (only STOPPED ones start)")
    def start_pods(self, request, queryset):
        report_verb(self, request, "start", *run_verb(request, "start", queryset.select_related("tenant")))

    @admin.action(description="Stop selected pods")
    def stop_pods(self, request, queryset):
        report_verb(self, request, "stop", *run_verb(request, "stop", queryset.select_related("tenant")))

    @admin.action(description="Restart selected pods")
    def restart_pods(self, request, queryset):
        report_verb(self, request, "restart", *run_verb(request, "restart", queryset.select_related("tenant")))


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
