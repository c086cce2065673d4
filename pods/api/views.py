"""The pods endpoints: tapipy's ``t.pods.*`` pod, permission and lifecycle operations.

Thin by design: scope the queryset (invisible → 404), check the level (too low → 403), call one
service function, render. Messages follow upstream's, so tapipy users see familiar text.
"""
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated

from core.envelope import no_changes_message, ok
from core.fields import QueryFlag
from core.permissions import PermissionsResponseSerializer
from pods import services
from pods.choices import RESTART_FIELDS
from pods.derive import derived_spec, ensure_credentials
from pods.models import Pod, PodEvent, PodLogRun, PodPermission, visible_pod
from pods.services import files
from templates_catalog.api.rendering import render_tag
from templates_catalog.api.serializers import TemplateTagResponseSerializer

from pods.services.secrets import placeholder_metadata, resolve_for_owner

from . import pod_display
from .permissions import CanAdminPod, CanReadPod, CanUsePod
from .rendering import (
    redact_mounts,
    render_action_logs,
    render_log_run,
    redacted_secret_map,
    render_pod,
    wire_pods,
)
from .serializers import (
    CredentialsResponseSerializer,
    ExecutePodCommandsSerializer,
    LogsResponseSerializer,
    NewPodSerializer,
    NewTemplateTagFromPodSerializer,
    PodResponseSerializer,
    SetPermissionSerializer,
    UpdatePodSerializer,
)
from .uploads import forward_upload

UPDATE_NOTE = ["Pod will require restart when updating command, environment_variables,",
               "status_requested, volume_mounts, networking, or resources."]


MAX_LIST_LIMIT = 1_000_000


def list_window(request) -> tuple[int | None, int]:
    """The optional ``limit`` and ``skip`` query parameters of a list (tapipy passes them through
    ``_tapis_query_parameters``); ``(None, 0)`` when absent: the whole list, as upstream's."""
    values = {}
    for name, minimum in (("limit", -1), ("skip", 0)):
        raw = request.query_params.get(name)
        if raw is None:
            continue
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or not minimum <= value <= MAX_LIST_LIMIT:
            low = "-1 (no limit)" if minimum < 0 else "0"
            raise exceptions.ValidationError({name: [
                f"must be a whole number from {low} to {MAX_LIST_LIMIT} (query parameter), not {raw!r}."]})
        values[name] = value
    limit = values.get("limit", -1)
    return (None if limit == -1 else limit), values.get("skip", 0)


def _flag(name, description):
    return OpenApiParameter(name, OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False,
                            description=description)


class PodViewSet(viewsets.GenericViewSet):
    lookup_field = "pod_id"
    lookup_value_regex = "[^/]+"
    serializer_class = PodResponseSerializer

    # action → level class; the permissions endpoint needs USER to read and ADMIN to write.
    level_for_action = {
        "retrieve": CanReadPod, "derived": CanReadPod, "logs": CanReadPod, "overrides": CanReadPod,
        "provenance": CanReadPod,
        "update": CanUsePod, "credentials": CanUsePod, "permissions": CanUsePod,
        "set_permission": CanAdminPod, "delete_permission": CanAdminPod, "destroy": CanAdminPod,
        "start": CanAdminPod, "stop": CanAdminPod, "restart": CanAdminPod,
        "save_pod_as_template_tag": CanAdminPod,
        "exec_commands": CanUsePod, "upload_to_pod": CanUsePod,
    }

    def get_queryset(self):
        principal = self.request.user
        if principal is None or not principal.is_authenticated:  # schema generation
            return Pod.objects.none()
        return Pod.objects.visible_to(principal).with_level(principal).select_related("tenant")

    def get_permissions(self):
        name = self.action
        if name == "permissions" and self.request.method == "POST":
            name = "set_permission"
        level = self.level_for_action.get(name)
        return [IsAuthenticated()] + ([level()] if level else [])

    def get_object(self):
        pod_id = self.kwargs[self.lookup_field]
        pod = visible_pod(self.request.user, pod_id)  # one query, compiled once per process
        if pod is None:
            raise exceptions.NotFound(f"Pod with identifier pod_id: '{pod_id}' not found.")
        self.check_object_permissions(self.request, pod)
        return pod

    def _actor(self):
        return services.actor_of(self.request.user)

    # --- CRUD -----------------------------------------------------------------------------------

    @extend_schema(operation_id="list_pods", responses=PodResponseSerializer(many=True), parameters=[
        OpenApiParameter("limit", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                         description="At most this many pods (by pod_id); absent or -1: all of them."),
        OpenApiParameter("skip", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                         description="Leave out this many pods first (by pod_id)."),
    ])
    def list(self, request):
        principal = request.user
        limit, skip = list_window(request)
        pods = Pod.objects.visible_to(principal).order_by("pod_id")
        if limit is not None or skip:
            pods = pods[skip:skip + limit] if limit is not None else pods[skip:]
        result = wire_pods(pods)
        metadata = {}
        if limit is not None or skip:
            metadata["limit"], metadata["skip"] = (-1 if limit is None else limit), skip
        if principal.admin_mode:
            own = (PodPermission.objects.filter(pod__tenant=principal.tenant, username=principal.username)
                   .values_list("pod__pod_id", flat=True).order_by("pod__pod_id"))
            metadata["admin_context"] = {
                "admin_mode": True, "user_accessible_ids": list(own),
                "msg": "Admin mode: every pod of the tenant is listed.",
            }
        return ok(result, "Pods retrieved successfully.", metadata, fast_json=True)

    @extend_schema(operation_id="create_pod", request=NewPodSerializer, responses=PodResponseSerializer)
    def create(self, request):
        data = self._validated(NewPodSerializer, request.data)
        pod = services.pod_create(principal=request.user, data=data)
        return ok(render_pod(pod), "Pod created successfully.", placeholder_metadata(pod.secret_map))

    @extend_schema(operation_id="get_pod", responses=PodResponseSerializer, parameters=[
        _flag("include_configs", "Show ephemeral mounts' config_content as written (pod USER)."),
        _flag("derived_lite", "The pod with its template chain merged, plus modified_fields."),
        _flag("derived", "As derived_lite, credential placeholders resolved (pod ADMIN).")])
    def retrieve(self, request, pod_id=None):
        pod = self.get_object()
        if pod_display.wants_view(request):  # upstream's other views (parity)
            return pod_display.pod_view(request, self, pod)
        return ok(render_pod(pod), "Pod retrieved successfully.")

    @extend_schema(operation_id="get_pod_overrides", responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def overrides(self, request, pod_id=None):
        """Only what the user set over the pod's templates (upstream's lean overrides view)."""
        return ok(pod_display.pod_overrides(self.get_object()), "Pod overrides retrieved successfully.")

    @extend_schema(operation_id="get_pod_provenance", responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def provenance(self, request, pod_id=None):
        """Per field: does the value come from the pod, its templates, or the defaults?"""
        return ok(pod_display.pod_provenance(self.get_object()), "Pod provenance retrieved successfully.")

    @extend_schema(operation_id="update_pod", request=UpdatePodSerializer, responses=PodResponseSerializer)
    def update(self, request, pod_id=None):
        pod = self.get_object()
        data = self._validated(UpdatePodSerializer, request.data)
        pod, changed = services.pod_update(pod=pod, principal=request.user, data=data)
        if not changed:
            return ok(render_pod(pod), no_changes_message("pod"),
                      {"changed_fields": [], "restart_required": False, "restart_fields": []})
        restart_fields = [name for name in changed if name in RESTART_FIELDS]
        metadata = {
            "note": UPDATE_NOTE,
            "changed_fields": changed,
            "restart_required": bool(restart_fields),
            "restart_fields": restart_fields,
        }
        withheld = derived_spec(pod).withheld
        if withheld:
            metadata["placeholders_withheld"] = withheld
            metadata["placeholders_note"] = ("These credential placeholders stay unresolved: their author does not "
                                             "hold the level that may read the credential (a pod ADMIN can set "
                                             "the value again to vouch for it).")
        return ok(render_pod(pod), "Pod updated successfully.", metadata)

    @extend_schema(operation_id="delete_pod", responses=OpenApiTypes.STR,
                   parameters=[_flag("force", "Accepted for compatibility; no effect yet.")])
    def destroy(self, request, pod_id=None):
        services.pod_delete(pod=self.get_object(), actor=self._actor())
        return ok("", "Pod successfully deleted.")

    # --- Reads ----------------------------------------------------------------------------------

    @extend_schema(operation_id="get_derived_pod", responses=PodResponseSerializer, parameters=[
        _flag("resolve_secrets", "Replace credential placeholders, and the caller's own readable secrets of "
                                 "secret_map, with their values (pod ADMIN only).")])
    @action(detail=True, methods=["get"])
    def derived(self, request, pod_id=None):
        pod = self.get_object()
        resolve = QueryFlag.read(request, "resolve_secrets")
        if resolve and not CanAdminPod().has_object_permission(request, self, pod):
            raise exceptions.PermissionDenied("Only pod ADMINs may resolve credential placeholders.")
        derived = derived_spec(pod, resolve_credentials=resolve)
        secrets_withheld = resolve_for_owner(pod, derived.spec, request.user.username) if resolve else []
        result = render_pod(pod)
        result.update({k: v for k, v in derived.spec.items() if k in result})
        # As get_pod shows it: file contents may hold secrets (resolved ones too).
        result["volume_mounts"] = redact_mounts(result["volume_mounts"])
        result["secret_map"] = redacted_secret_map(result["secret_map"])
        return ok(result, "Final derived pod retrieved successfully.", {
            "credentials_resolved": resolve,
            "unresolved_placeholders": derived.unresolved,
            "placeholders_withheld": derived.withheld,
            "secret_map_keys_withheld": secrets_withheld,
            "security": derived.spec["security"],
            "template_chain": derived.chain,
            "provenance": derived.provenance,
            "modified_fields": pod.modified_fields,
        })

    @extend_schema(operation_id="get_pod_credentials", responses=CredentialsResponseSerializer)
    @action(detail=True, methods=["get"])
    def credentials(self, request, pod_id=None):
        creds = ensure_credentials(self.get_object())
        return ok({"user_username": creds.user_username, "user_password": creds.user_password})

    @extend_schema(operation_id="get_pod_logs", responses=LogsResponseSerializer, parameters=[
        OpenApiParameter("run", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                         description="Which run's logs: 'latest' (default), 'previous', or an "
                                     "instance_id listed in metadata.runs.")])
    @action(detail=True, methods=["get"])
    def logs(self, request, pod_id=None):
        pod = self.get_object()
        runs = list(PodLogRun.objects.filter(pod=pod).defer("text"))
        chosen = self._chosen_run(runs, request.query_params.get("run", "latest"))
        text = ""
        if chosen is not None:
            text = PodLogRun.objects.filter(pk=chosen.pk).values_list("text", flat=True).first() or ""
        events = PodEvent.objects.filter(pod=pod).only("created_at", "message")
        return ok({"logs": text, "action_logs": render_action_logs(events)},
                  "Pod logs retrieved successfully.",
                  {"run": render_log_run(chosen) if chosen else None,
                   "runs": [render_log_run(run) for run in runs]})

    @staticmethod
    def _chosen_run(runs, which):
        if which == "latest":
            return runs[0] if runs else None
        if which == "previous":
            return runs[1] if len(runs) > 1 else None
        for run in runs:
            if str(run.instance_id) == which:
                return run
        raise exceptions.ValidationError({"run": [
            f"Must be 'latest', 'previous' or an instance_id of this pod's runs (got {which!r})."]})

    # --- Permissions ----------------------------------------------------------------------------

    @extend_schema(operation_id="get_pod_permissions", responses=PermissionsResponseSerializer)
    @action(detail=True, methods=["get"])
    def permissions(self, request, pod_id=None):
        pod = self.get_object()
        return ok({"permissions": services.permission_lines(pod)}, "Pod permissions retrieved successfully.")

    @extend_schema(operation_id="set_pod_permission", request=SetPermissionSerializer,
                   responses=PermissionsResponseSerializer)
    @permissions.mapping.post
    def set_permission(self, request, pod_id=None):
        pod = self.get_object()
        data = self._validated(SetPermissionSerializer, request.data)
        lines = services.pod_permission_set(pod=pod, principal=request.user, username=data["user"],
                                            level=data["level"])
        return ok({"permissions": lines}, "Pod permissions updated successfully.")

    @extend_schema(operation_id="delete_pod_permission", responses=PermissionsResponseSerializer,
                   parameters=[OpenApiParameter("user", OpenApiTypes.STR, OpenApiParameter.PATH)])
    @action(detail=True, methods=["delete"], url_path=r"permissions/(?P<user>[^/]+)")
    def delete_permission(self, request, pod_id=None, user=None):
        lines = services.pod_permission_delete(pod=self.get_object(), principal=request.user, username=user)
        return ok({"permissions": lines}, "Pod permission deleted successfully.")

    # --- Lifecycle ------------------------------------------------------------------------------

    @extend_schema(operation_id="start_pod", responses=PodResponseSerializer)
    @action(detail=True, methods=["get"])
    def start(self, request, pod_id=None):
        pod = services.pod_start(pod=self.get_object(), actor=self._actor())
        return ok(render_pod(pod), "Updated pod's status_requested to ON and requested pod.")

    @extend_schema(operation_id="stop_pod", responses=PodResponseSerializer)
    @action(detail=True, methods=["get"])
    def stop(self, request, pod_id=None):
        pod = services.pod_stop(pod=self.get_object(), actor=self._actor())
        return ok(render_pod(pod), "Updated pod's status_requested to OFF.")

    @extend_schema(operation_id="restart_pod", responses=PodResponseSerializer, parameters=[
        _flag("grab_latest_template_tag", "Move a templated pod to the newest version of its template's tag.")])
    @action(detail=True, methods=["get"])
    def restart(self, request, pod_id=None):
        grab = QueryFlag.read(request, "grab_latest_template_tag")
        pod = services.pod_restart(pod=self.get_object(), actor=self._actor(), grab_latest_template_tag=grab)
        return ok(render_pod(pod), "Updated pod's status_requested to RESTART.")

    # --- Commands and files in the running pod -------------------------------------------------

    @extend_schema(operation_id="exec_pod_commands", request=ExecutePodCommandsSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], url_path="exec")
    def exec_commands(self, request, pod_id=None):
        pod = self.get_object()
        data = self._validated(ExecutePodCommandsSerializer, request.data)
        result = files.pod_exec(pod=pod, principal=request.user, commands=data["commands"],
                                command_timeout=data["command_timeout"], total_timeout=data["total_timeout"],
                                fail_on_non_success=data["fail_on_non_success"])
        done, total = result["successful_commands"], result["total_commands"]
        if done == total == len(data["commands"]):
            message = "All Commands Successful"
        else:
            failed = next((r for r in result["execution_results"] if r["success"] is not True), None)
            reason = ("a timeout" if failed and isinstance(failed["success"], str) else "a command failure") \
                if failed else "the total timeout"
            message = f"{done} of {len(data['commands'])} commands successful - Execution stopped due to {reason}"
        return ok(result, message)

    @extend_schema(operation_id="upload_to_pod", responses=OpenApiTypes.OBJECT,
                   request={"multipart/form-data": {"type": "object", "properties": {
                       "file": {"type": "string", "format": "binary"}, "dest_path": {"type": "string"}},
                       "required": ["file", "dest_path"]}})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def upload_to_pod(self, request, pod_id=None):
        pod = self.get_object()
        length = request.META.get("CONTENT_LENGTH")
        handler = forward_upload(request, lambda: files.pod_upload_writer(
            pod=pod, content_length=int(length) if length and length.isdigit() else None))
        raw = handler.small.get("dest_path", b"").decode("utf-8", errors="strict").strip()
        try:
            dest_path = files.clean_pod_path(raw)
        except Exception:
            handler.writer.abort()
            raise
        written = handler.writer.commit(dest_path)
        PodEvent.for_pod(pod, actor=self._actor(), kind="note",
                         message=f"{self._actor()} uploaded a file to {dest_path} ({written} bytes)").save()
        return ok({"uploaded": dest_path, "pod_name": pod.pod_id, "bytes": written}, "File uploaded to pod successfully.")

    # --- Templates ------------------------------------------------------------------------------

    @extend_schema(operation_id="save_pod_as_template_tag", request=NewTemplateTagFromPodSerializer,
                   responses=TemplateTagResponseSerializer)
    @action(detail=True, methods=["post"])
    def save_pod_as_template_tag(self, request, pod_id=None):
        # Upstream addresses this one by pod_id_net (``mypod`` or ``mypod-bolt``).
        self.kwargs[self.lookup_field] = pod_id.split("-", 1)[0]
        pod = self.get_object()
        data = self._validated(NewTemplateTagFromPodSerializer, request.data)
        version = services.pod_save_as_template_tag(pod=pod, principal=request.user, data=data)
        return ok(render_tag(version), "Template tag added successfully.", {"reference": version.reference})

    @staticmethod
    def _validated(serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
