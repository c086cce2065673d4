"""From a Pod row to the plain-value PodSpec the manifest builders take."""
from django.conf import settings

from core.errors import Forbidden
from pods.derive import (
    CREDENTIAL_VARIABLE,
    derived_spec,
    ensure_credentials,
    value_location,
)
from pods.models import Pod
from podspec.images import image_name
from podspec.resources import RESOURCE_DEFAULTS
from templates_catalog.models import image_denied, pull_credential_for
from workers.kube import client as kube_client
from workers.kube.manifests import PodSpec, kube_probes


def pod_spec_for(pod: Pod) -> PodSpec:
    """The derived pod (templates merged, credential placeholders resolved) as a PodSpec.

    Credentials are resolved here and only here: they reach the cluster, never the API, and
    there only through Secrets: an environment value holding one moves to ``secret_env``; a
    command or argument refers to ``$(PODS_CREDENTIAL_X)``, which the kubelet expands from a
    variable of the same Secret.
    """
    derived = derived_spec(pod, resolve_credentials=True, command_references=True)
    spec = derived.spec
    # Checked at every start, not only at create: a template version, or the tenant's policy,
    # may have changed since. The tenant's deny always wins.
    if image_denied(pod.tenant, spec["image"]):
        raise Forbidden(f"image '{image_name(spec['image'])}' is denied for tenant '{pod.tenant.tenant_id}' "
                        "by its image allow-list.")
    apply_secret_map(pod, spec)
    resources = {**RESOURCE_DEFAULTS, **(spec.get("resources") or {})}
    queue = settings.PODS_COMPUTE_QUEUE_CONFIG.get(spec.get("compute_queue") or "default", {})
    files = {path: (mount["config_content"], mount.get("config_permissions") or "0644")
             for path, mount in (spec.get("volume_mounts") or {}).items()
             if mount and mount.get("type") == "ephemeral"}
    ports = {key: int(entry["port"]) for key, entry in (spec.get("networking") or {}).items()
             if entry and entry.get("port")}
    local_only = frozenset(key for key, entry in (spec.get("networking") or {}).items()
                           if entry and entry.get("protocol") == "local_only")
    env, secret_env = {}, {}
    for name, value in (spec.get("environment_variables") or {}).items():
        holds_credential = (value_location("environment_variables", name) in derived.credentials_at
                            or name in spec.get("_secret_env_names", ()))
        (secret_env if holds_credential else env)[name] = str(value)
    referenced = {n for where in ("command", "arguments") for n in derived.credentials_at.get(where, ())}
    if referenced:
        values = ensure_credentials(pod).placeholders()
        for name in sorted(referenced):
            secret_env.setdefault(CREDENTIAL_VARIABLE.format(name.upper()), values[name])
    security = spec.get("security") or {}
    capabilities = tuple(security.get("capabilities") or ())
    refused = sorted(set(capabilities) - set(settings.PODS_TEMPLATE_CAPABILITIES))
    if refused:
        raise Forbidden(f"the template asks for capabilities this site does not allow: {', '.join(refused)}.")
    nfs_mounts, claim_mounts = storage_mounts_for(pod, spec.get("volume_mounts") or {})
    credential = pull_credential_for(pod.tenant, spec["image"])
    registry_auth = (credential.registry, credential.username, credential.password) if credential else ()
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
        env=env,
        secret_env=secret_env,
        capabilities_add=capabilities,
        run_as_non_root=security.get("run_as_non_root"),
        run_as_user=security.get("run_as_user"),
        run_as_group=security.get("run_as_group"),
        local_only=local_only,
        proxy_peer=proxy_peer(),
        ports=ports,
        cpu_request_m=int(resources["cpu_request"]),
        cpu_limit_m=int(resources["cpu_limit"]),
        mem_request_mi=int(resources["mem_request"]),
        mem_limit_mi=int(resources["mem_limit"]),
        gpus=int(resources.get("gpus") or 0),
        ephemeral_request_mi=int(resources.get("ephemeral_storage_request", -1)),
        ephemeral_limit_mi=int(resources.get("ephemeral_storage_limit", -1)),
        registry_auth=registry_auth,
        image_pull_policy=security.get("image_pull_policy") or settings.PODS_IMAGE_PULL_POLICY,
        gpu_resource=queue.get("gpu_resource", settings.PODS_GPU_RESOURCE),
        node_selector=queue.get("node_selector", {}),
        tolerations=queue.get("tolerations", []),
        files=files,
        nfs_mounts=nfs_mounts,
        claim_mounts=claim_mounts,
        probes=kube_probes(spec.get("healthchecks"), ports.get("default")),
        networking_requires_ready=(spec.get("healthchecks") or {}).get("networking_requires_ready", True),
    )


# --- secret_map (parity2) ----------------------------------------------------------------------

def apply_secret_map(pod: Pod, spec: dict) -> None:
    """Resolve the pod's ``secret_map`` now and put the values where ``${pods:secrets:KEY}``
    asks (environment values, ephemeral file contents). Environment values that received one
    are named in ``spec["_secret_env_names"]``: they travel in the pod's Kubernetes Secret.
    A missing secret raises InvalidInput: the spawner marks the pod ERROR with the message."""
    from pods.services.secrets import resolve
    from podspec import secret_map as sm

    env = spec.get("environment_variables") or {}
    mounts = spec.get("volume_mounts") or {}
    used = set()
    for value in env.values():
        used |= sm.uses(value)
    for mount in mounts.values():
        used |= sm.uses((mount or {}).get("config_content") or "")
    spec["_secret_env_names"] = set()
    if not used:
        return
    wanted = {key: value for key, value in (spec.get("secret_map") or {}).items() if key in used}
    resolved = resolve(pod, wanted, spec.get("networking") or {})
    for name, value in env.items():
        if sm.uses(value):
            env[name] = sm.substitute(value, resolved)
            spec["_secret_env_names"].add(name)
    for mount in mounts.values():
        if mount and sm.uses(mount.get("config_content") or ""):
            mount["config_content"] = sm.substitute(mount["config_content"], resolved)


def _selector(text: str) -> dict:
    return {"matchLabels": dict(item.split("=", 1) for item in text)} if text else {}


def proxy_peer() -> dict:
    """The NetworkPolicy peer selecting the proxy's pods (``PODS_PROXY_POD_SELECTOR``, in the
    namespaces of ``PODS_PROXY_NAMESPACE_SELECTOR``; without one, the pods' own namespace)."""
    peer = {"podSelector": _selector(settings.PODS_PROXY_POD_SELECTOR)}
    if settings.PODS_PROXY_NAMESPACE_SELECTOR:
        peer["namespaceSelector"] = _selector(settings.PODS_PROXY_NAMESPACE_SELECTOR)
    return peer
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
