"""The tenant storage servers: started on demand, brought up to date, reaped when idle.

``ensure_storage`` (a task, woken by the API and by spawns that mount volumes) creates the
tenant's claim, Service and server Pod when missing; once the Pod runs it creates the
directories of REQUESTED volumes, removes the directories of deleted volumes and snapshots,
and marks the server READY (file operations may then exec into it). ``reap_idle_storage``
(beat) deletes the server Pod of tenants that used no file operation for
``PODS_STORAGE_IDLE_SECONDS`` and have no live pod mounting a volume or snapshot. The claim
and the Service stay, so data and the ClusterIP user pods mount survive the reaping.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import NotFound as DomainNotFound
from core.errors import Unavailable
from pods.choices import AT_REST
from pods.models import Pod, Snapshot, StorageServer, StorageStatus, Volume
from pods.storage import storage_backend
from tenancy.models import Tenant
from workers.kube import api as kube
from workers.kube import client as kube_client
from workers.kube.errors import AlreadyExists
from workers.kube.manifests import (
    StorageServerSpec,
    storage_claim_manifest,
    storage_pod_manifest,
    storage_server_name,
    storage_service_manifest,
)

logger = logging.getLogger(__name__)
S = StorageServer.Status
MOUNT_TYPES = ("tapisvolume", "tapissnapshot")


def server_spec(tenant: Tenant) -> StorageServerSpec:
    return StorageServerSpec(name=storage_server_name(tenant.site_id, tenant.tenant_id),
                             namespace=kube_client.namespace(), tenant_id=tenant.tenant_id,
                             image=settings.PODS_STORAGE_SERVER_IMAGE,
                             capacity_mb=settings.PODS_STORAGE_TENANT_QUOTA_MB,
                             storage_class=settings.PODS_STORAGE_CLASS)


def _create(kind: str, manifest: dict) -> None:
    try:
        kube.create(kind, manifest)
    except AlreadyExists:
        pass


def _is_ready(pod: dict) -> bool:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and all(c.get("ready") for c in status.get("containerStatuses") or [{}])


def ensure_service(tenant: Tenant) -> str:
    """Claim and Service of the tenant's storage (created when missing); returns the ClusterIP."""
    spec = server_spec(tenant)
    _create("pvc", storage_claim_manifest(spec))
    service = kube.read("service", spec.name)
    if service is None:
        _create("service", storage_service_manifest(spec))
        service = kube.read("service", spec.name) or {}
    cluster_ip = (service.get("spec") or {}).get("clusterIP", "")
    StorageServer.objects.update_or_create(tenant=tenant, defaults={"cluster_ip": cluster_ip, "pod_name": spec.name})
    return cluster_ip


def ensure_storage(tenant_pk: int) -> str:
    """One pass: ``"ready"`` when the server runs and is up to date, else ``"starting"``."""
    tenant = Tenant.objects.get(pk=tenant_pk)
    ensure_service(tenant)
    spec = server_spec(tenant)
    pod = kube.read("pod", spec.name)
    server = StorageServer.objects.get(tenant=tenant)
    if pod is None or (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
        if pod is not None:
            kube.delete("pod", spec.name)
        _create("pod", storage_pod_manifest(spec))
        StorageServer.objects.filter(pk=server.pk).update(status=S.STARTING, message="server pod created")
        return "starting"
    if not _is_ready(pod):
        StorageServer.objects.filter(pk=server.pk).exclude(status=S.STARTING).update(status=S.STARTING)
        return "starting"
    backend = storage_backend()
    try:
        backend.make_dir(tenant, "volumes")
        backend.make_dir(tenant, "snapshots")
        for volume in Volume.objects.filter(tenant=tenant, status=StorageStatus.REQUESTED):
            backend.make_dir(tenant, volume.storage_path)
            Volume.objects.filter(pk=volume.pk, status=StorageStatus.REQUESTED).update(status=StorageStatus.AVAILABLE)
        removed = backend.remove_stray(tenant, lambda: {
            "volumes": {str(u) for u in Volume.objects.filter(tenant=tenant).values_list("uid", flat=True)},
            "snapshots": {str(u) for u in Snapshot.objects.filter(tenant=tenant).values_list("uid", flat=True)}})
    except (Unavailable, DomainNotFound) as exc:
        logger.warning("storage server of %s not usable yet: %s", tenant.tenant_id, exc)
        return "starting"
    if removed:
        logger.info("storage of %s: removed %s", tenant.tenant_id, ", ".join(removed))
    StorageServer.objects.filter(pk=server.pk).update(status=S.READY, ready_at=timezone.now(), message="")
    return "ready"


def tenants_mounting_storage() -> set[int]:
    """Tenants with a live pod whose spec mounts a volume or snapshot."""
    rows = Pod.objects.exclude(status__in=AT_REST).exclude(volume_mounts={}).values_list("tenant_id", "volume_mounts")
    return {tenant_id for tenant_id, mounts in rows
            if any(m and m.get("type") in MOUNT_TYPES for m in (mounts or {}).values())}


def reap_idle_storage() -> list[str]:
    """Delete the server Pods nobody used for ``PODS_STORAGE_IDLE_SECONDS``; returns their tenants."""
    cutoff = timezone.now() - timedelta(seconds=settings.PODS_STORAGE_IDLE_SECONDS)
    busy = tenants_mounting_storage()
    reaped = []
    for server in StorageServer.objects.filter(status__in=(S.READY, S.STARTING), last_used_at__lt=cutoff
                                               ).select_related("tenant"):
        if server.tenant_id in busy or Volume.objects.filter(tenant_id=server.tenant_id,
                                                              status=StorageStatus.REQUESTED).exists():
            continue
        # STOPPED first: a file operation starting now waits for a fresh server instead of
        # exec'ing into one being deleted.
        if StorageServer.objects.filter(pk=server.pk, last_used_at__lt=cutoff).update(status=S.STOPPED):
            kube.delete("pod", server_spec(server.tenant).name)
            reaped.append(server.tenant.tenant_id)
    return reaped


def request_storage(tenant: Tenant) -> None:
    """A pod about to mount the tenant's storage: mark it used and have the server started."""
    from pods.services.storage import wake_storage

    server, _ = StorageServer.objects.get_or_create(tenant=tenant)
    StorageServer.objects.filter(pk=server.pk).update(last_used_at=timezone.now())
    if server.status != S.READY:
        wake_storage(tenant.pk)


def remove_pod_claims(names: list[str], pod_uid: str) -> int:
    """Delete the claims ``names`` that belong to pod row ``pod_uid`` (labels checked, uid
    precondition); a claim another pod reuses the name of is never touched."""
    from workers.kube.manifests import LABEL_POD_UID

    deleted = 0
    for name in names:
        claim = kube.read("pvc", name)
        if claim is None or (claim.get("metadata", {}).get("labels") or {}).get(LABEL_POD_UID) != pod_uid:
            continue
        if kube.delete("pvc", name, uid=claim["metadata"].get("uid")):
            deleted += 1
    return deleted
