"""Files of volumes and snapshots, and files and commands in running pods, through the
configured storage backend (:mod:`pods.storage`).

Before touching files the tenant's storage server must be READY: when it is not, the worker is
asked to start it and the request waits (``PODS_STORAGE_WAIT_SECONDS``), then answers 503
saying to retry. Transfers stream: no file is ever held whole in memory here.
"""
import posixpath
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import (
    BadRequest,
    Conflict,
    InvalidInput,
    NotFound,
    TooLarge,
    Unavailable,
)
from core.permissions import PermissionLevel
from pods.archive import zip_from_tar
from pods.choices import PodStatus
from pods.models import Snapshot, StorageEvent, StorageServer, StorageStatus, Volume
from pods.storage import FileEntry, storage_backend
from podspec.paths import clean_relative_path

from . import storage
from .pods import actor_of

POLL_SECONDS = 0.2


def _server(tenant) -> StorageServer:
    server, _ = StorageServer.objects.get_or_create(tenant=tenant)
    return server


def storage_ready(tenant) -> None:
    """Return once the tenant's storage server is READY (asking the worker to start it), or 503."""
    server = _server(tenant)
    StorageServer.objects.filter(pk=server.pk).update(last_used_at=timezone.now())
    if server.status == StorageServer.Status.READY:
        return
    storage.wake_storage(tenant.pk)
    deadline = time.monotonic() + settings.PODS_STORAGE_WAIT_SECONDS
    while True:
        status = StorageServer.objects.filter(pk=server.pk).values_list("status", flat=True).first()
        if status == StorageServer.Status.READY:
            return
        if time.monotonic() >= deadline:
            raise Unavailable(f"The storage server of tenant '{tenant.tenant_id}' is starting; retry in a few "
                              "seconds.", metadata={"retry_after": 5})
        time.sleep(POLL_SECONDS)


def _lost_server(tenant) -> None:
    """An exec found no server (reaped, evicted): mark it so the next use starts it again."""
    StorageServer.objects.filter(tenant=tenant).update(status=StorageServer.Status.STOPPED)
    storage.wake_storage(tenant.pk)


def _call(tenant, fn, *args, **kwargs):
    storage_ready(tenant)
    try:
        return fn(*args, **kwargs)
    except Unavailable:
        _lost_server(tenant)
        storage_ready(tenant)
        return fn(*args, **kwargs)


def prepare_volume(volume: Volume) -> Volume:
    """Create the volume's directory now when the storage server can be had in time; else the
    worker does it when the server is up (the volume stays REQUESTED until then)."""
    try:
        _call(volume.tenant, storage_backend().make_dir, volume.tenant, volume.storage_path)
    except Unavailable:
        return volume
    Volume.objects.filter(pk=volume.pk, status=StorageStatus.REQUESTED).update(status=StorageStatus.AVAILABLE)
    volume.refresh_from_db()
    return volume


def _ready_object(obj):
    if obj.status == StorageStatus.AVAILABLE:
        return
    if isinstance(obj, Volume) and obj.status == StorageStatus.REQUESTED:
        prepare_volume(obj)
        if obj.status == StorageStatus.AVAILABLE:
            return
    raise Conflict(f"{obj.kind.capitalize()} '{obj.object_id}' is {obj.status}, not AVAILABLE; retry shortly.",
                   metadata={"status": obj.status})


def refresh_usage(obj) -> None:
    """Measure the object's usage (``du -sb``) when the server is up; keep the last figure otherwise."""
    server = StorageServer.objects.filter(tenant_id=obj.tenant_id).first()
    if obj.status != StorageStatus.AVAILABLE or server is None or server.status != StorageServer.Status.READY:
        return
    try:
        used = storage_backend().usage(obj.tenant, obj.storage_path)
    except (Unavailable, NotFound):
        return
    obj.size_bytes, obj.measured_at = used, timezone.now()
    type(obj).objects.filter(pk=obj.pk).update(size_bytes=used, measured_at=obj.measured_at)


def list_files(obj, raw_path: str = "") -> list[FileEntry]:
    path = clean_relative_path(raw_path or "")
    _ready_object(obj)
    return _call(obj.tenant, storage_backend().list_files, obj.tenant, obj.storage_path, path)


def render_file(entry: FileEntry) -> dict:
    """tapipy's ``FileModel``."""
    return {"path": entry.path, "name": entry.name, "type": entry.type, "size": entry.size,
            "lastModified": entry.last_modified, "nativePermissions": entry.native_permissions}


class Download:
    def __init__(self, chunks, content_type: str, filename: str):
        self.chunks, self.content_type, self.filename = chunks, content_type, filename


def open_contents(obj, raw_path: str, *, as_zip: bool) -> Download:
    """A file as ``application/octet-stream``; a directory as a zip (``zip=true``) or a tar."""
    path = clean_relative_path(raw_path or "", allow_root=False)
    _ready_object(obj)
    backend = storage_backend()
    kind = _call(obj.tenant, backend.kind_of, obj.tenant, obj.storage_path, path)
    name = posixpath.basename(path)
    if kind == "missing":
        raise NotFound(f"No such file or directory in {obj.kind} '{obj.object_id}': {path!r}.")
    StorageServer.objects.filter(tenant_id=obj.tenant_id).update(last_used_at=timezone.now())
    if kind == "file" and not as_zip:
        return Download(backend.read_file(obj.tenant, obj.storage_path, path), "application/octet-stream", name)
    tar = backend.read_tar(obj.tenant, obj.storage_path, path)
    if as_zip:
        return Download(zip_from_tar(tar), "application/zip", f"{name}.zip")
    return Download(tar, "application/x-tar", f"{name}.tar")


def _upload_cap(volume: Volume) -> int:
    """Bytes an upload may bring: the upload cap, and the room left below the volume's size_limit."""
    refresh_usage(volume)
    room = volume.size_limit_bytes - volume.size_bytes
    if room <= 0:
        raise TooLarge(f"Volume '{volume.volume_id}' is full: it uses {volume.size_bytes} bytes of its "
                       f"size_limit of {volume.size_limit} MB.", metadata={"usage_bytes": volume.size_bytes})
    return min(settings.PODS_UPLOAD_MAX_BYTES, room)


def volume_upload_writer(volume: Volume, raw_path: str, *, content_length: int | None, principal):
    """A writer for one upload (``write(chunk)``, ``commit()``, ``abort()``): 413 before the first
    byte when the declared length is already too large."""
    path = clean_relative_path(raw_path or "", allow_root=False)
    _ready_object(volume)
    storage_ready(volume.tenant)
    cap = _upload_cap(volume)
    if content_length is not None and content_length > cap + 64 * 1024:  # multipart framing allowance
        raise TooLarge(f"The upload ({content_length} bytes) is larger than allowed here ({cap} bytes: the "
                       "upload cap or the room left below the volume's size_limit).", metadata={"max_bytes": cap})
    writer = storage_backend().open_writer(volume.tenant, volume.storage_path, path, max_bytes=cap)
    actor = actor_of(principal)

    class _Recorded:
        def write(self, data):
            writer.write(data)

        def abort(self):
            writer.abort()

        def commit(self):
            written = writer.commit()
            StorageEvent.record(volume, actor=actor, message=f"{actor} uploaded {path!r} ({written} bytes)")
            return written

    return _Recorded()


def snapshot_create_and_copy(*, principal, data: dict) -> Snapshot:
    """Create a snapshot and copy its source now (a point-in-time copy: writes after this call
    never reach it). Needs USER on the source volume; a failed copy removes the row."""
    source = (Volume.objects.visible_to(principal).with_level(principal).select_related("tenant")
              .filter(volume_id=data["source_volume_id"]).first())
    if source is None:
        raise NotFound(f"Volume with identifier volume_id: '{data['source_volume_id']}' not found.")
    if source.level < PermissionLevel.USER:
        raise InvalidInput({"source_volume_id": ["A snapshot needs USER permission on its source volume."]})
    source_path = clean_relative_path(data["source_volume_path"], field="source_volume_path")
    destination = clean_relative_path(data.get("destination_path", ""), field="destination_path")
    _ready_object(source)
    storage_ready(source.tenant)
    snapshot = storage.snapshot_create(principal=principal, data=data, source=source)
    try:
        storage_backend().copy(source.tenant, source.storage_path, snapshot.storage_path,
                               source_path=source_path, destination_path=destination)
    except NotFound:
        _drop(snapshot)
        raise InvalidInput({"source_volume_path": [f"No such file or directory in volume "
                                                   f"'{source.volume_id}': {data['source_volume_path']!r}."]})
    except BaseException:
        _drop(snapshot)
        raise
    Snapshot.objects.filter(pk=snapshot.pk).update(status=StorageStatus.AVAILABLE)
    snapshot.refresh_from_db()
    refresh_usage(snapshot)
    return snapshot


def _drop(snapshot: Snapshot) -> None:
    with transaction.atomic():
        Snapshot.objects.filter(pk=snapshot.pk).delete()
    storage.wake_storage(snapshot.tenant_id)


# --- Running pods ---------------------------------------------------------------------------

def _running(pod) -> None:
    if pod.status != PodStatus.AVAILABLE:
        raise Conflict(f"Pod '{pod.pod_id}' is {pod.status}; commands and uploads need an AVAILABLE pod.",
                       metadata={"status": pod.status})


def pod_exec(*, pod, principal, commands: list, command_timeout: int, total_timeout: int,
             fail_on_non_success: bool) -> dict:
    """Run each command in the pod's main container, in order (upstream's result shape)."""
    _running(pod)
    argvs = [["sh", "-c", command] if isinstance(command, str) else list(command) for command in commands]
    if any(not argv or not argv[0] for argv in argvs):
        raise InvalidInput({"commands": ["Every command must be a non-empty string or list of strings."]})
    results = storage_backend().exec_in_pod(pod.k8_name, argvs, command_timeout=command_timeout,
                                            total_timeout=total_timeout, stop_on_failure=fail_on_non_success,
                                            output_cap=settings.PODS_EXEC_OUTPUT_MAX_BYTES)
    now = timezone.now()
    rendered = [{"command": r.command if not isinstance(commands[i], str) else commands[i],
                 "stdout": r.stdout, "stderr": r.stderr,
                 "success": (f"Timeout after {command_timeout}s." if r.timed_out else r.exit_code == 0),
                 "exit_code": r.exit_code, "duration_sec": r.duration_sec,
                 "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S")} for i, r in enumerate(results)]
    from pods.models import PodEvent, PodEventKind

    names = ", ".join(argv[0] if argv[0] != "sh" else "sh -c" for argv in argvs)
    PodEvent.for_pod(pod, actor=actor_of(principal), kind=PodEventKind.NOTE,
                     message=f"{actor_of(principal)} ran {len(argvs)} command(s) in the pod: {names}").save()
    return {"execution_results": rendered, "total_commands": len(argvs),
            "successful_commands": sum(1 for r in rendered if r["success"] is True)}


def pod_upload_writer(*, pod, content_length: int | None):
    _running(pod)
    cap = settings.PODS_UPLOAD_MAX_BYTES
    if content_length is not None and content_length > cap + 64 * 1024:
        raise TooLarge(f"The upload ({content_length} bytes) is larger than PODS_UPLOAD_MAX_BYTES ({cap}).")
    return storage_backend().open_pod_writer(pod.k8_name, max_bytes=cap)


def clean_pod_path(raw: str) -> str:
    """An absolute path in the pod's filesystem (normalised; no NUL, no '..')."""
    if not raw or not raw.startswith("/"):
        raise InvalidInput({"dest_path": ["Must be an absolute path in the pod (starting with '/')."]})
    cleaned = "/" + clean_relative_path(raw, field="dest_path", allow_root=False)
    if cleaned.endswith("/"):
        raise BadRequest("dest_path must name a file.")
    return cleaned
