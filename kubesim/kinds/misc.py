"""Events and Nodes."""

from __future__ import annotations

from ..clock import format_time
from ..errors import FieldError
from ..strategy import Strategy
from ..tables import age_cell, column, since

EVENT_TYPES = ["Normal", "Warning"]


class EventStrategy(Strategy):
    """core/v1 Events written by clients (the simulator records its own directly)."""

    def prepare_create(self, cluster, obj):
        obj.setdefault("involvedObject", {})
        obj.setdefault("count", 1)

    def validate(self, cluster, obj):
        errors = super().validate(cluster, obj)
        involved = obj.get("involvedObject") or {}
        ns = obj["metadata"].get("namespace")
        if involved.get("namespace") and involved["namespace"] != ns:
            errors.append(FieldError("Invalid", "involvedObject.namespace",
                                     involved["namespace"], "does not match event.namespace"))
        if obj.get("type") and obj["type"] not in EVENT_TYPES:
            errors.append(FieldError("NotSupported", "type", obj["type"], supported=EVENT_TYPES))
        return errors

    def table(self, cluster, obj):
        inv = obj.get("involvedObject") or {}
        source = obj.get("source") or {}
        last = obj.get("lastTimestamp") or obj.get("eventTime") or \
            obj["metadata"].get("creationTimestamp")
        first = obj.get("firstTimestamp") or obj.get("eventTime")
        subobject = inv.get("fieldPath", "")
        src = source.get("component") or obj.get("reportingComponent", "")
        if source.get("host"):
            src += f", {source['host']}"
        return ([column("Last Seen"), column("Type"), column("Reason"), column("Object"),
                 column("Subobject", priority=1), column("Source", priority=1),
                 column("Message"), column("First Seen", priority=1),
                 column("Count", "integer", priority=1), column("Name", fmt="name", priority=1)],
                [since(cluster, last), obj.get("type", ""), obj.get("reason", ""),
                 f"{inv.get('kind', '').lower()}/{inv.get('name', '')}", subobject, src,
                 obj.get("message", ""), since(cluster, first), obj.get("count", 1),
                 obj["metadata"]["name"]])


class NodeStrategy(Strategy):
    """The simulated node is read-only through the API."""

    def table(self, cluster, obj):
        status = obj.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        roles = sorted(k.split("/", 1)[1] for k in obj["metadata"].get("labels") or {}
                       if k.startswith("node-role.kubernetes.io/"))
        info = status.get("nodeInfo") or {}
        address = next((a["address"] for a in status.get("addresses") or []
                        if a.get("type") == "InternalIP"), "<none>")
        return ([column("Name", fmt="name"), column("Status"), column("Roles"), column("Age"),
                 column("Version"), column("Internal-IP", priority=1),
                 column("External-IP", priority=1), column("OS-Image", priority=1),
                 column("Kernel-Version", priority=1), column("Container-Runtime", priority=1)],
                [obj["metadata"]["name"], "Ready" if ready.get("status") == "True" else "NotReady",
                 ",".join(roles) or "<none>", age_cell(cluster, obj),
                 info.get("kubeletVersion", ""), address, "<none>", info.get("osImage", ""),
                 info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")])


def node_object(cluster) -> dict:
    """The single simulated Node."""
    cfg = cluster.config
    capacity = {"cpu": cfg.node_cpu_quantity, "memory": cfg.node_memory_quantity,
                "pods": str(cfg.node_pods), "ephemeral-storage": "100Gi"}
    now = format_time(cluster.clock.now())
    return {
        "metadata": {"name": cfg.node_name, "labels": cluster.node_labels(),
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"podCIDR": cfg.pod_cidr, "podCIDRs": [cfg.pod_cidr]},
        "status": {
            "capacity": capacity, "allocatable": dict(capacity),
            "conditions": [
                {"type": t, "status": "False", "reason": r, "message": m,
                 "lastHeartbeatTime": now, "lastTransitionTime": now}
                for t, r, m in (
                    ("MemoryPressure", "KubeletHasSufficientMemory",
                     "kubelet has sufficient memory available"),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID",
                     "kubelet has sufficient PID available"))
            ] + [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                  "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                  "lastTransitionTime": now}],
            "addresses": [{"type": "InternalIP", "address": cfg.host_ip},
                          {"type": "Hostname", "address": cfg.node_name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": "kubesim", "systemUUID": "kubesim", "bootID": "kubesim",
                         "kernelVersion": "6.1.0-kubesim", "osImage": "kubesim (simulated)",
                         "containerRuntimeVersion": "containerd://1.7.24",
                         "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0",
                         "operatingSystem": "linux", "architecture": "amd64"},
        },
    }
