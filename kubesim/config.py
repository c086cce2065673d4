"""Settings of one simulated cluster."""

from __future__ import annotations

from dataclasses import dataclass

from .quantity import parse_quantity


@dataclass
class Config:
    """Everything configurable about a kubesim instance.

    ``node_cpu`` / ``node_memory`` accept Kubernetes quantities (``"4"``,
    ``"500m"``, ``"16Gi"``).  ``clock`` is ``"manual"`` (time moves only when
    advanced; tests) or ``"wall"`` (real time times ``speed``; CLI).
    """

    clock: str = "manual"
    speed: float = 1.0
    start_time: float | None = None
    node_name: str = "kubesim-node"
    node_cpu_quantity: str = "4"
    node_memory_quantity: str = "16Gi"
    node_pods: int = 110
    host_ip: str = "172.18.0.2"
    pod_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/16"
    token: str | None = "kubesim-token"
    # kubectl (client-go) never sends bearer tokens over plain http, so requests
    # without credentials are accepted as an anonymous admin unless this is set;
    # a request carrying a wrong token always gets 401.
    require_auth: bool = False
    # Enforce RBAC (kubesim.rbac): ServiceAccount tokens, Roles and bindings; 403 outside them.
    rbac: bool = False
    # Serve HTTPS with this PEM certificate chain and key (e.g. to test in-cluster config,
    # which always speaks https to KUBERNETES_SERVICE_HOST:PORT).
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    history_size: int = 100_000
    event_ttl: float = 3600.0
    bookmark_interval: float = 60.0   # wall seconds between watch BOOKMARKs
    journal_size: int = 50_000
    # Bytes all simulated filesystems together may hold (container layers, emptyDirs,
    # PVC data); writes beyond it fail with ENOSPC.
    fs_budget: str = "2Gi"
    seed: int | None = None

    @property
    def node_cpu(self) -> float:
        """Allocatable CPU cores."""
        return parse_quantity(self.node_cpu_quantity)

    @property
    def node_memory(self) -> float:
        """Allocatable memory in bytes."""
        return parse_quantity(self.node_memory_quantity)
