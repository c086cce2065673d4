"""From a Pod row to the plain-value PodSpec the manifest builders take."""
from django.conf import settings

from pods.derive import derived_spec
from pods.models import Pod
from podspec.resources import RESOURCE_DEFAULTS
from workers.kube import client as kube_client
from workers.kube.manifests import PodSpec


def pod_spec_for(pod: Pod) -> PodSpec:
    """The derived pod (templates merged, credential placeholders resolved) as a PodSpec.

    Credentials are resolved here and only here: they reach the cluster, never the API.
    """
    spec = derived_spec(pod, resolve_credentials=True).spec
    resources = {**RESOURCE_DEFAULTS, **(spec.get("resources") or {})}
    queue = settings.PODS_COMPUTE_QUEUE_CONFIG.get(spec.get("compute_queue") or "default", {})
    files = {path: (mount["config_content"], mount.get("config_permissions") or "0644")
             for path, mount in (spec.get("volume_mounts") or {}).items()
             if mount and mount.get("type") == "ephemeral"}
    ports = {key: int(entry["port"]) for key, entry in (spec.get("networking") or {}).items()
             if entry and entry.get("port")}
    nfs_mounts, claim_mounts = storage_mounts_for(pod, spec.get("volume_mounts") or {})
    return PodSpec(
        name=pod.k8_name,
        namespace=kube_client.namespace(),
        tenant_id=pod.tenant.tenant_id,
        pod_id=pod.pod_id,
        pod_uid=str(pod.uid),
        instance_id=str(pod.instance_id),
        image=spec["image"],
        command=spec.get("command") or None,
        args=spec.get("arguments") or None,
        env={k: str(v) for k, v in (spec.get("environment_variables") or {}).items()},
        ports=ports,
        cpu_request_m=int(resources["cpu_request"]),
        cpu_limit_m=int(resources["cpu_limit"]),
        mem_request_mi=int(resources["mem_request"]),
        mem_limit_mi=int(resources["mem_limit"]),
        gpus=int(resources.get("gpus") or 0),
        gpu_resource=queue.get("gpu_resource", settings.PODS_GPU_RESOURCE),
        node_selector=queue.get("node_selector", {}),
        tolerations=queue.get("tolerations", []),
        files=files,
        nfs_mounts=nfs_mounts,
        claim_mounts=claim_mounts,
    )


def storage_mounts_for(pod: Pod, mounts: dict) -> tuple[tuple, tuple]:
    """``nfs`` mounts of the tenant's storage server (permissions checked again now: whoever
    added a mount must still hold the level it needs) and pod-private claims of ``pvc`` mounts.

    The server's Service (and claim) are created here when missing, and the server Pod is asked
    for; the kubelet retries the mount until the server runs (FailedMount, then Running).
    """
    from pods.services.mounts import check_mounts_at_start
    from podspec.mounts import pod_claim_name
    from workers.kube.manifests import EXPORT_ROOT
    from workers.storage_server import ensure_service, request_storage

    shared = check_mounts_at_start(pod, mounts)
    nfs = []
    if shared:
        server = ensure_service(pod.tenant)
        request_storage(pod.tenant)
        for path, mount, obj in shared:
            sub = mount.get("sub_path") or ""
            if sub:  # resolved in the server: a symlink in the volume must not lead to another one
                sub = resolve_in_storage(pod.tenant, obj, sub, path)
            export = f"{EXPORT_ROOT}/{obj.storage_path}" + (f"/{sub}" if sub else "")
            nfs.append((path, server, export, bool(mount.get("read_only")) or mount["type"] == "tapissnapshot"))
    claims = tuple((path, pod_claim_name(pod.k8_name, mount["source_id"]), mount.get("sub_path") or "",
                    bool(mount.get("read_only")))
                   for path, mount in sorted(mounts.items()) if mount and mount.get("type") == "pvc")
    return tuple(nfs), claims


def resolve_in_storage(tenant, obj, sub_path: str, mount_path: str) -> str:
    """The real ``sub_path`` below the object's root; needs the storage server running now
    (TransientKubeError while it starts: the spawn is retried)."""
    from core.errors import InvalidInput, NotFound, Unavailable
    from pods.storage import storage_backend
    from workers.kube.errors import TransientKubeError
    from workers.storage_server import ensure_storage

    if ensure_storage(tenant.pk) != "ready":
        raise TransientKubeError(f"the storage server of tenant {tenant.tenant_id} is starting")
    try:
        return storage_backend().resolve_dir(tenant, obj.storage_path, sub_path)
    except (InvalidInput, NotFound) as exc:
        raise InvalidInput({"volume_mounts": {mount_path: [
            f"sub_path {sub_path!r} is not a directory inside {obj.kind} '{obj.object_id}'"]}}) from exc
    except Unavailable as exc:
        raise TransientKubeError(str(exc)) from exc
