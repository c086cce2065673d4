"""Pure functions building the Kubernetes objects of a pod. Plain values in, dicts out.

What reaches the cluster is locked down: no service-account token, no service links, every
capability dropped (a template may add back what its image needs), no privilege escalation, the
runtime's default seccomp profile, non-root where the template says the image allows it. Values
holding resolved credentials and every ephemeral file travel in Secrets owned by the Pod (so the
cluster deletes them with it), never as plain env values or ConfigMap data. A NetworkPolicy per
pod, owned by it too, lets in only the proxy (on the routed ports) and the tenant's own pods (on
``local_only`` ports), over a namespace-wide default deny: ``tapis_auth`` and ``ip_allow_list``
cannot be bypassed from inside the cluster.
"""
import base64
import hashlib
import json
import re
from dataclasses import dataclass, field

from podspec.resources import RESOURCE_DEFAULTS

MANAGED_BY = "pods-service"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_TENANT = "pods-service/tenant"
LABEL_POD_ID = "pods-service/pod-id"
LABEL_POD_UID = "pods-service/pod-uid"
LABEL_INSTANCE = "pods-service/instance"
MANAGED_SELECTOR = f"{LABEL_MANAGED_BY}={MANAGED_BY}"

# Container port names must be IANA service names: at most 15 characters, with a letter.
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


@dataclass(frozen=True)
class PodSpec:
    """Everything needed to build one pod's objects, already derived and resolved."""

    name: str
    namespace: str
    tenant_id: str
    pod_id: str
    pod_uid: str
    instance_id: str
    image: str
    command: list | None = None
    args: list | None = None
    env: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)  # networking key -> container port
    cpu_request_m: int = RESOURCE_DEFAULTS["cpu_request"]
    cpu_limit_m: int = RESOURCE_DEFAULTS["cpu_limit"]
    mem_request_mi: int = RESOURCE_DEFAULTS["mem_request"]
    mem_limit_mi: int = RESOURCE_DEFAULTS["mem_limit"]
    gpus: int = RESOURCE_DEFAULTS["gpus"]
    # MiB; -1 (unlimited): no ephemeral-storage request/limit at all.
    ephemeral_request_mi: int = RESOURCE_DEFAULTS["ephemeral_storage_request"]
    ephemeral_limit_mi: int = RESOURCE_DEFAULTS["ephemeral_storage_limit"]
    gpu_resource: str = "nvidia.com/gpu"
    node_selector: dict = field(default_factory=dict)
    tolerations: list = field(default_factory=list)
    annotations: dict = field(default_factory=dict)
    # Ephemeral files: mount path -> (content, octal mode string), each from its own Secret.
    files: dict = field(default_factory=dict)
    # Environment variables whose values hold credentials: name -> value, from the pod's Secret.
    secret_env: dict = field(default_factory=dict)
    # What the template declares the image needs.
    capabilities_add: tuple = ()
    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    # Networking keys whose entry is local_only: reachable from the tenant's own pods, never
    # routed by the proxy. Every other port is reachable from the proxy alone.
    local_only: frozenset = frozenset()
    # The NetworkPolicy peer that selects the proxy's pods (from settings).
    proxy_peer: dict = field(default_factory=dict)
    # Volumes and snapshots: (mount path, NFS server IP, export path, read-only), docs/volumes.md.
    nfs_mounts: tuple = ()
    # Pod-private claims of ``pvc`` mounts: (mount path, claim name, sub path, read-only).
    claim_mounts: tuple = ()
    # Health checks (parity2): Kubernetes probes by kind (``startup``/``readiness``/``liveness``),
    # and whether the pod counts as AVAILABLE (routed) only once ready.
    probes: dict = field(default_factory=dict)
    networking_requires_ready: bool = True
    # Private images (parity): (registry, username, password) from the tenant's registry
    # credential, sent as a dockerconfigjson Secret named in imagePullSecrets. Never in a repr.
    registry_auth: tuple = field(default=(), repr=False)
    # imagePullPolicy: empty leaves Kubernetes' default (Always for :latest, else IfNotPresent).
    image_pull_policy: str = ""


def file_secret_name(spec: PodSpec, mount_path: str) -> str:
    """Deterministic, per instance and path, at most 63 characters."""
    digest = hashlib.sha256(f"{spec.instance_id}:{mount_path}".encode()).hexdigest()[:8]
    return f"{spec.name[:50].rstrip('-')}-f{digest}"


def env_secret_name(spec: PodSpec) -> str:
    """The Secret holding the instance's credential-bearing environment values."""
    digest = hashlib.sha256(f"{spec.instance_id}:env".encode()).hexdigest()[:8]
    return f"{spec.name[:50].rstrip('-')}-e{digest}"


def _file_name(mount_path: str) -> str:
    return mount_path.rstrip("/").rsplit("/", 1)[-1] or "file"


def labels(spec: PodSpec) -> dict:
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_TENANT: spec.tenant_id,
        LABEL_POD_ID: spec.pod_id,
        LABEL_POD_UID: spec.pod_uid,
        LABEL_INSTANCE: spec.instance_id,
    }


def mebibytes(value: int) -> str:
    """A MiB count as a Kubernetes quantity in canonical form: ``2048`` → ``2Gi``, ``5000`` → ``5000Mi``."""
    for suffix, size in (("Ti", 1024 * 1024), ("Gi", 1024)):
        if value and value % size == 0:
            return f"{value // size}{suffix}"
    return f"{value}Mi"


def _resources(spec: PodSpec) -> dict:
    requests = {"cpu": f"{spec.cpu_request_m}m", "memory": f"{spec.mem_request_mi}Mi"}
    limits = {"cpu": f"{spec.cpu_limit_m}m", "memory": f"{spec.mem_limit_mi}Mi"}
    # Ephemeral storage: only what is bounded (-1 sends nothing; a lone limit makes Kubernetes
    # request the same), in the canonical form the API server stores (2048Mi reads back as 2Gi).
    if spec.ephemeral_request_mi >= 0:
        requests["ephemeral-storage"] = mebibytes(spec.ephemeral_request_mi)
    if spec.ephemeral_limit_mi >= 0:
        limits["ephemeral-storage"] = mebibytes(spec.ephemeral_limit_mi)
    if spec.gpus:
        # Extended resources must have requests equal to limits.
        requests[spec.gpu_resource] = limits[spec.gpu_resource] = str(spec.gpus)
    return {"requests": requests, "limits": limits}


def _container_ports(spec: PodSpec) -> list:
    ports = []
    for key, port in sorted(spec.ports.items(), key=lambda item: item[1]):
        entry = {"containerPort": int(port), "protocol": "TCP"}
        if _PORT_NAME.match(key):
            entry["name"] = key
        if entry not in ports and all(p["containerPort"] != entry["containerPort"] for p in ports):
            ports.append(entry)
    return ports


def _env(spec: PodSpec) -> list:
    plain = {name: {"name": name, "value": str(value)} for name, value in spec.env.items()}
    secret = env_secret_name(spec)
    from_secret = {name: {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": name}}}
                   for name in spec.secret_env}
    return [entry for _, entry in sorted({**plain, **from_secret}.items())]


def container_security(spec: PodSpec) -> dict:
    """Nothing beyond what the template declared: every capability dropped, no escalation."""
    context = {"allowPrivilegeEscalation": False, "privileged": False,
               "capabilities": {"drop": ["ALL"]}}
    if spec.capabilities_add:
        context["capabilities"]["add"] = sorted(spec.capabilities_add)
    return context


def pod_security(spec: PodSpec) -> dict:
    context = {"seccompProfile": {"type": "RuntimeDefault"}}
    if spec.run_as_non_root:
        context["runAsNonRoot"] = True
    if spec.run_as_user is not None:
        context["runAsUser"] = int(spec.run_as_user)
    if spec.run_as_group is not None:
        context["runAsGroup"] = int(spec.run_as_group)
    return context


def pod_manifest(spec: PodSpec) -> dict:
    """The Pod: one locked-down container, never restarted by the kubelet, no API credentials inside."""
    container = {
        "name": "pod",
        "image": spec.image,
        "env": _env(spec),
        "ports": _container_ports(spec),
        "resources": _resources(spec),
        "securityContext": container_security(spec),
    }
    volumes = []
    if spec.files:
        container["volumeMounts"] = []
        for index, (path, (_, mode)) in enumerate(sorted(spec.files.items())):
            volume = f"file{index}"
            volumes.append({"name": volume, "secret": {"secretName": file_secret_name(spec, path),
                                                       "defaultMode": int(mode, 8)}})
            container["volumeMounts"].append({"name": volume, "mountPath": path, "subPath": _file_name(path),
                                              "readOnly": True})
    storage_volumes, storage_mounts = storage_volumes_of(spec)
    if storage_volumes:
        volumes.extend(storage_volumes)
        container.setdefault("volumeMounts", []).extend(storage_mounts)
    for kind, probe in sorted(spec.probes.items()):
        container[f"{kind}Probe"] = dict(probe)
    if spec.image_pull_policy:
        container["imagePullPolicy"] = spec.image_pull_policy
    if spec.command:
        container["command"] = list(spec.command)
    if spec.args:
        container["args"] = list(spec.args)
    pod_spec = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security(spec),
        "containers": [container],
    }
    if volumes:
        pod_spec["volumes"] = volumes
    if spec.registry_auth:
        pod_spec["imagePullSecrets"] = [{"name": pull_secret_name(spec)}]
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    if spec.tolerations:
        pod_spec["tolerations"] = list(spec.tolerations)
    annotations = dict(spec.annotations)
    if not spec.networking_requires_ready:
        annotations[ANNOTATION_ROUTE_UNREADY] = "true"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": labels(spec),
                     "annotations": annotations},
        "spec": pod_spec,
    }


# --- Health checks (parity2) --------------------------------------------------------------------

# On a Kubernetes pod whose healthchecks say networking_requires_ready: false (read by
# workers.observe: such a pod is AVAILABLE as soon as it runs).
ANNOTATION_ROUTE_UNREADY = "pods-service/route-unready"
_PROBE_KINDS = ("startup", "readiness", "liveness")


def kube_probes(healthchecks: dict | None, default_port: int | None) -> dict:
    """Upstream's ``healthchecks`` as Kubernetes probes (``{"readiness": {...}, ...}``).

    An HTTP probe without ``http_get_port`` checks the pod's default networking port; liveness
    and startup probes must have ``successThreshold`` 1 (Kubernetes refuses anything else).
    """
    result = {}
    for kind in _PROBE_KINDS:
        check = (healthchecks or {}).get(kind)
        if not check:
            continue
        probe = {"initialDelaySeconds": int(check.get("initial_delay_seconds", 10)),
                 "periodSeconds": int(check.get("period_seconds", 10)),
                 "timeoutSeconds": int(check.get("timeout_seconds", 5)),
                 "failureThreshold": int(check.get("failure_threshold", 3)),
                 "successThreshold": 1 if kind != "readiness" else int(check.get("success_threshold", 1))}
        if check.get("http_get_path"):
            port = check.get("http_get_port") or default_port or 5000
            probe["httpGet"] = {"path": check["http_get_path"], "port": int(port),
                                "scheme": check.get("http_get_scheme") or "HTTP"}
        elif check.get("exec_command"):
            probe["exec"] = {"command": list(check["exec_command"])}
        elif check.get("tcp_socket_port"):
            probe["tcpSocket"] = {"port": int(check["tcp_socket_port"])}
        else:
            continue
        result[kind] = probe
    return result


def service_manifest(spec: PodSpec) -> dict | None:
    """The ClusterIP Service exposing every networking port; None when the pod exposes none."""
    ports = [
        {"name": key, "port": int(port), "targetPort": int(port), "protocol": "TCP"}
        for key, port in sorted(spec.ports.items())
    ]
    if not ports:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": labels(spec)},
        "spec": {
            "type": "ClusterIP",
            "selector": {LABEL_POD_UID: spec.pod_uid, LABEL_INSTANCE: spec.instance_id},
            "ports": ports,
        },
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def pod_secrets(spec: PodSpec, owner_uid: str) -> list:
    """The instance's Secrets: one holding the credential-bearing environment values (if any),
    one per ephemeral file. Owned by the Kubernetes Pod, so deleting the Pod deletes them (the
    cluster's garbage collector): no extra list in the sweep."""
    owner = {"apiVersion": "v1", "kind": "Pod", "name": spec.name, "uid": owner_uid,
             "blockOwnerDeletion": False, "controller": False}

    def secret(name, data):
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": spec.namespace, "labels": labels(spec),
                             "ownerReferences": [owner]},
                "data": {key: _b64(value) for key, value in data.items()}}

    secrets = [secret(env_secret_name(spec), spec.secret_env)] if spec.secret_env else []
    secrets += [secret(file_secret_name(spec, path), {_file_name(path): content})
                for path, (content, _) in sorted(spec.files.items())]
    return secrets


# --- Private images (parity) ------------------------------------------------------------------

def pull_secret_name(spec: PodSpec) -> str:
    """The instance's image pull Secret: deterministic, per instance, at most 63 characters."""
    digest = hashlib.sha256(f"{spec.instance_id}:pull".encode()).hexdigest()[:8]
    return f"{spec.name[:50].rstrip('-')}-r{digest}"


def pull_secret(spec: PodSpec, owner: dict) -> dict:
    """The ``kubernetes.io/dockerconfigjson`` Secret of ``spec.registry_auth``, owned by ``owner``
    (the Service, created before the Pod so the kubelet finds it at the first pull; the Pod when
    the pod exposes no port), so the cluster deletes it with the instance."""
    registry, username, password = spec.registry_auth
    server = "https://index.docker.io/v1/" if registry == "docker.io" else registry
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = json.dumps({"auths": {server: {"username": username, "password": password, "auth": auth}}})
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": pull_secret_name(spec), "namespace": spec.namespace, "labels": labels(spec),
                         "ownerReferences": [{**owner, "blockOwnerDeletion": False, "controller": False}]},
            "data": {".dockerconfigjson": _b64(config)}}


DEFAULT_DENY_POLICY = "pods-service-default-deny"


def default_deny_policy(namespace: str) -> dict:
    """Every managed pod is isolated for ingress: nothing gets in unless its own policy says so
    (policies add up), including in the moment between a Pod's creation and its policy's."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": DEFAULT_DENY_POLICY, "namespace": namespace,
                         "labels": {LABEL_MANAGED_BY: MANAGED_BY}},
            "spec": {"podSelector": {"matchLabels": {LABEL_MANAGED_BY: MANAGED_BY}},
                     "policyTypes": ["Ingress"], "ingress": []}}


def network_policy(spec: PodSpec, owner_uid: str) -> dict:
    """Who may connect to this instance: the proxy on the ports it routes, the tenant's own pods
    on ``local_only`` ports, nobody else (no rule at all: nobody). Owned by the Kubernetes Pod."""
    routed = sorted({port for key, port in spec.ports.items() if key not in spec.local_only})
    local = sorted({port for key, port in spec.ports.items() if key in spec.local_only})
    rules = []
    if routed:
        rules.append({"from": [dict(spec.proxy_peer)],
                      "ports": [{"protocol": "TCP", "port": int(port)} for port in routed]})
    if local:
        tenant_pods = {"podSelector": {"matchLabels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_TENANT: spec.tenant_id}}}
        rules.append({"from": [tenant_pods], "ports": [{"protocol": "TCP", "port": int(port)} for port in local]})
    owner = {"apiVersion": "v1", "kind": "Pod", "name": spec.name, "uid": owner_uid,
             "blockOwnerDeletion": False, "controller": False}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": labels(spec),
                         "ownerReferences": [owner]},
            "spec": {"podSelector": {"matchLabels": {LABEL_POD_UID: spec.pod_uid, LABEL_INSTANCE: spec.instance_id}},
                     "policyTypes": ["Ingress"], "ingress": rules}}


# --- The tenant storage server (docs/volumes.md) ------------------------------------------------

LABEL_STORAGE_TENANT = "pods-service/storage-tenant"
# Not MANAGED_BY: the sweep and the watcher look only at user pods; the storage server has its
# own reconciler (workers.storage_server) and is never an orphan of a pod row.
STORAGE_MANAGED_BY = "pods-service-storage"
NFS_PORT = 2049
EXPORT_ROOT = "/exports"


@dataclass(frozen=True)
class StorageServerSpec:
    name: str
    namespace: str
    tenant_id: str
    image: str
    capacity_mb: int
    storage_class: str = ""  # empty: the cluster's default StorageClass


def storage_server_name(site_id: str, tenant_id: str) -> str:
    """``pods-storage-{site}-{tenant}``: the server Pod, its Service and its claim share it."""
    full = f"pods-storage-{site_id}-{tenant_id}"
    if len(full) <= 63:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[:54].rstrip('-')}-{digest}"


def _storage_labels(spec: StorageServerSpec) -> dict:
    return {LABEL_MANAGED_BY: STORAGE_MANAGED_BY, LABEL_STORAGE_TENANT: spec.tenant_id}


def storage_claim_manifest(spec: StorageServerSpec) -> dict:
    """The tenant's one ReadWriteOnce claim, as large as its storage quota (the cluster enforces it)."""
    claim = {"accessModes": ["ReadWriteOnce"],
             "resources": {"requests": {"storage": f"{spec.capacity_mb}Mi"}}}
    if spec.storage_class:
        claim["storageClassName"] = spec.storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": _storage_labels(spec)},
            "spec": claim}


def storage_service_manifest(spec: StorageServerSpec) -> dict:
    """The NFS Service user pods mount (by its ClusterIP: nodes resolve no cluster DNS)."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": _storage_labels(spec)},
            "spec": {"type": "ClusterIP", "selector": _storage_labels(spec),
                     "ports": [{"name": "nfs", "port": NFS_PORT, "targetPort": NFS_PORT, "protocol": "TCP"}]}}


def storage_pod_manifest(spec: StorageServerSpec) -> dict:
    """The NFS server Pod exporting ``/exports`` (the claim). The kernel NFS server needs a
    privileged container; it runs no user code, and only our exec reaches its shell."""
    container = {
        "name": "nfs",
        "image": spec.image,
        "env": [{"name": "SHARED_DIRECTORY", "value": EXPORT_ROOT}],
        "ports": [{"name": "nfs", "containerPort": NFS_PORT, "protocol": "TCP"}],
        "securityContext": {"privileged": True},
        "volumeMounts": [{"name": "data", "mountPath": EXPORT_ROOT}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": _storage_labels(spec)},
            "spec": {"restartPolicy": "Always", "automountServiceAccountToken": False,
                     "enableServiceLinks": False, "containers": [container],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": spec.name}}]}}


def _mount_volume_name(kind: str, mount_path: str) -> str:
    return f"{kind}-{hashlib.sha256(mount_path.encode()).hexdigest()[:10]}"


def storage_volumes_of(spec: PodSpec) -> tuple[list, list]:
    """The pod's ``nfs`` volumes (volumes, snapshots) and claims (``pvc``), and their mounts."""
    volumes, mounts = [], []
    for mount_path, server, path, read_only in spec.nfs_mounts:
        name = _mount_volume_name("nfs", mount_path)
        volumes.append({"name": name, "nfs": {"server": server, "path": path, "readOnly": bool(read_only)}})
        mounts.append({"name": name, "mountPath": mount_path, "readOnly": bool(read_only)})
    for mount_path, claim, sub_path, read_only in spec.claim_mounts:
        name = _mount_volume_name("pvc", mount_path)
        volumes.append({"name": name, "persistentVolumeClaim": {"claimName": claim, "readOnly": bool(read_only)}})
        mount = {"name": name, "mountPath": mount_path, "readOnly": bool(read_only)}
        if sub_path:
            mount["subPath"] = sub_path
        mounts.append(mount)
    return volumes, mounts


def pod_claim_manifests(spec: PodSpec, size_mb: int, storage_class: str = "") -> list:
    """The pod-private claims of its ``pvc`` mounts (kept across restarts, labelled with the pod)."""
    result, seen = [], set()
    for _, claim, _, _ in spec.claim_mounts:
        if claim in seen:
            continue
        seen.add(claim)
        body = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{size_mb}Mi"}}}
        if storage_class:
            body["storageClassName"] = storage_class
        result.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": claim, "namespace": spec.namespace,
                                    "labels": {LABEL_MANAGED_BY: STORAGE_MANAGED_BY, LABEL_TENANT: spec.tenant_id,
                                               LABEL_POD_ID: spec.pod_id, LABEL_POD_UID: spec.pod_uid}},
                       "spec": body})
    return result
