"""Services: ClusterIP / NodePort allocation, defaults, validation, ``kubectl get`` row."""

from __future__ import annotations

import ipaddress

from .. import names
from ..errors import FieldError
from ..strategy import Strategy
from ..tables import age_cell, column

TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
NODE_PORT_RANGE = (30000, 32767)


class Allocator:
    """Cluster-wide ClusterIP and NodePort bookkeeping."""

    def __init__(self, cidr: str):
        self.network = ipaddress.ip_network(cidr)
        self.ips: set[str] = set()
        self.ports: set[int] = set()
        self._next_ip = 10
        self._next_port = NODE_PORT_RANGE[0]

    def allocate_ip(self) -> str:
        """Next free address (``.1`` is reserved for the ``kubernetes`` service)."""
        size = self.network.num_addresses
        for _ in range(size):
            candidate = str(self.network.network_address + self._next_ip)
            self._next_ip = self._next_ip + 1 if self._next_ip + 2 < size else 2
            if candidate not in self.ips:
                self.ips.add(candidate)
                return candidate
        raise RuntimeError("service CIDR exhausted")

    def allocate_port(self) -> int:
        """Next free node port in 30000-32767."""
        for _ in range(NODE_PORT_RANGE[1] - NODE_PORT_RANGE[0] + 1):
            candidate = self._next_port
            self._next_port = candidate + 1 if candidate < NODE_PORT_RANGE[1] else NODE_PORT_RANGE[0]
            if candidate not in self.ports:
                self.ports.add(candidate)
                return candidate
        raise RuntimeError("node port range exhausted")

    def release(self, svc: dict) -> None:
        """Free everything a deleted service held."""
        spec = svc.get("spec") or {}
        for ip in spec.get("clusterIPs") or []:
            self.ips.discard(ip)
        for port in spec.get("ports") or []:
            self.ports.discard(port.get("nodePort"))


class ServiceStrategy(Strategy):
    """Service semantics (``pkg/registry/core/service``)."""

    name_check = staticmethod(names.dns1035_label)

    def prepare_create(self, cluster, obj):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
        if spec["type"] != "ExternalName":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        obj["status"] = {"loadBalancer": {}}

    def validate(self, cluster, obj):
        errors = super().validate(cluster, obj)
        spec = obj.get("spec") or {}
        stype = spec.get("type")
        if stype not in TYPES:
            errors.append(FieldError("NotSupported", "spec.type", stype, supported=TYPES))
        ports = spec.get("ports") or []
        if not ports and stype != "ExternalName" and spec.get("clusterIP") != "None":
            errors.append(FieldError("Required", "spec.ports"))
        seen = set()
        for i, port in enumerate(ports):
            path = f"spec.ports[{i}]"
            number = port.get("port")
            if not isinstance(number, int) or not 0 < number < 65536:
                errors.append(FieldError("Invalid", f"{path}.port", number,
                                         "must be between 1 and 65535, inclusive"))
            if len(ports) > 1 and not port.get("name"):
                errors.append(FieldError("Required", f"{path}.name"))
            elif port.get("name"):
                # Service port names are DNS-1123 labels ("80-8080" is fine), unlike
                # container port names which must be IANA service names.
                errors += [FieldError("Invalid", f"{path}.name", port["name"], p)
                           for p in names.dns1123_label(port["name"])]
            if port.get("protocol") not in PROTOCOLS:
                errors.append(FieldError("NotSupported", f"{path}.protocol", port.get("protocol"),
                                         supported=PROTOCOLS))
            key = (number, port.get("protocol"))
            if key in seen:
                errors.append(FieldError("Duplicate", path, {"port": number,
                                                             "protocol": port.get("protocol")}))
            seen.add(key)
        return errors

    def validate_create(self, cluster, obj):
        spec = obj["spec"]
        alloc: Allocator = cluster.services
        errors: list[FieldError] = []
        requested = spec.get("clusterIP")
        if requested and requested != "None":
            try:
                inside = ipaddress.ip_address(requested) in alloc.network
            except ValueError:
                inside = False
            if not inside:
                errors.append(FieldError("Invalid", "spec.clusterIPs", [requested],
                                         f"failed to allocate IP {requested}: the provided IP "
                                         f"({requested}) is not in the valid range. The range of "
                                         f"valid IPs is {alloc.network}"))
            elif requested in alloc.ips:
                errors.append(FieldError("Invalid", "spec.clusterIPs", [requested],
                                         f"failed to allocate IP {requested}: provided IP is "
                                         f"already allocated"))
        for i, port in enumerate(spec.get("ports") or []):
            node_port = port.get("nodePort")
            if not node_port:
                continue
            if not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
                errors.append(FieldError("Invalid", f"spec.ports[{i}].nodePort", node_port,
                                         "provided port is not in the valid range. The range of "
                                         "valid ports is 30000-32767"))
            elif node_port in alloc.ports:
                errors.append(FieldError("Invalid", f"spec.ports[{i}].nodePort", node_port,
                                         "provided port is already allocated"))
        if not errors:
            self._allocate(alloc, spec)
        return errors

    @staticmethod
    def _allocate(alloc: Allocator, spec: dict) -> None:
        # Runs only after validation passed; dryRun allocations are released by the caller.
        if spec["type"] == "ExternalName":
            return
        if spec.get("clusterIP") == "None":
            spec["clusterIPs"] = ["None"]
        else:
            ip = spec.get("clusterIP") or alloc.allocate_ip()
            alloc.ips.add(ip)
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        if spec["type"] in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                port["nodePort"] = port.get("nodePort") or alloc.allocate_port()
                alloc.ports.add(port["nodePort"])

    def validate_update(self, cluster, new, old):
        old_spec, new_spec = old.get("spec") or {}, new.setdefault("spec", {})
        new_spec.setdefault("clusterIP", old_spec.get("clusterIP"))
        new_spec.setdefault("clusterIPs", old_spec.get("clusterIPs"))
        for key in ("clusterIP", "clusterIPs"):
            if new_spec.get(key) != old_spec.get(key):
                return [FieldError("Invalid", f"spec.{key}", new_spec.get(key),
                                   "field is immutable")]
        return []

    def rollback_create(self, cluster, obj):
        cluster.services.release(obj)

    def after_delete(self, cluster, obj):
        cluster.services.release(obj)

    def table(self, cluster, obj):
        spec = obj.get("spec") or {}
        ports = ",".join(
            f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/"
            f"{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []) or "<none>"
        ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
        if not external:
            external = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
        selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
        return ([column("Name", fmt="name"), column("Type"), column("Cluster-IP"),
                 column("External-IP"), column("Port(s)"), column("Age"),
                 column("Selector", priority=1)],
                [obj["metadata"]["name"], spec.get("type", ""), spec.get("clusterIP") or "<none>",
                 external, ports, age_cell(cluster, obj), selector or "<none>"])
