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


def _resources(spec: PodSpec) -> dict:
    requests = {"cpu": f"{spec.cpu_request_m}m", "memory": f"{spec.mem_request_mi}Mi"}
    limits = {"cpu": f"{spec.cpu_limit_m}m", "memory": f"{spec.mem_limit_mi}Mi"}
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
        "imagePullPolicy": "IfNotPresent",
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
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    if spec.tolerations:
        pod_spec["tolerations"] = list(spec.tolerations)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": labels(spec),
                     "annotations": dict(spec.annotations)},
        "spec": pod_spec,
    }


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
