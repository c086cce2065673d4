"""``ensure_jupyter_pod`` and ``upload_to_jupyter``."""
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated

from core.envelope import ok
from core.permissions import PermissionLevel
from pods.models import Pod, PodEvent
from pods.services import files, jupyter
from pods.services.pods import actor_of

from .uploads import forward_upload


@extend_schema(operation_id="ensure_jupyter_pod", responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def ensure_jupyter_pod(request):
    pod, created = jupyter.ensure_jupyter_pod(principal=request.user)
    message = "Created new Jupyter pod successfully." if created else "Retrieved existing Jupyter pod successfully."
    return ok(jupyter.render_jupyter(pod), message)


@extend_schema(operation_id="upload_to_jupyter", responses=OpenApiTypes.OBJECT,
               request={"multipart/form-data": {"type": "object", "properties": {
                   "file": {"type": "string", "format": "binary"}, "path": {"type": "string"}},
                   "required": ["file", "path"]}})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
@parser_classes([MultiPartParser])
def upload_to_jupyter(request, pod_id):
    principal = request.user
    pod = (Pod.objects.visible_to(principal).with_level(principal).select_related("tenant")
           .filter(pod_id=pod_id).first())
    if pod is None or not jupyter.is_jupyter(pod):
        raise exceptions.NotFound(f"No Jupyter pod with pod_id '{pod_id}' that you can see.")
    if pod.level < PermissionLevel.USER:
        raise exceptions.PermissionDenied(f"Uploading to pod '{pod_id}' needs USER permission on it.")
    length = request.META.get("CONTENT_LENGTH")
    handler = forward_upload(request, lambda: files.pod_upload_writer(
        pod=pod, content_length=int(length) if length and length.isdigit() else None))
    try:
        dest = jupyter.jupyter_path(handler.small.get("path", b"").decode("utf-8", errors="strict"))
    except Exception:
        handler.writer.abort()
        raise
    written = handler.writer.commit(dest)
    actor = actor_of(principal)
    PodEvent.for_pod(pod, actor=actor, kind="note", message=f"{actor} uploaded a file to {dest} ({written} bytes)").save()
    return ok({"upload_path": dest, "pod_name": pod.pod_id, "url": jupyter.render_jupyter(pod)["url"],
               "bytes": written}, "File uploaded to Jupyter pod successfully.")
