"""Evaluate stored NetworkPolicies with Kubernetes semantics (``/_kubesim/reachable``).

A connection from a source to a destination pod on ``port``/``protocol`` is
allowed when both ends allow it:

* **ingress** - the destination is isolated for ingress if any policy in its
  namespace selects it and lists ``Ingress`` in ``policyTypes``; then some such
  policy must have an ingress rule whose ``from`` peers include the source and
  whose ``ports`` include the port (named ports resolve against the
  destination's container ports);
* **egress** - likewise for the source pod, its ``Egress`` policies and their
  ``to`` peers.

Peers: ``podSelector`` (pods in the policy's namespace), ``namespaceSelector``
(every pod in matching namespaces), both (matching pods in matching
namespaces), or ``ipBlock`` (``cidr`` minus ``except``, applied to pod IPs and
to sources given as an IP).  A rule without peers or ports matches all peers
or all ports.  Traffic from a pod to itself is always allowed.  Nothing is
enforced on pods - this only answers the question, for tests of isolation.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass
class Endpoint:
    """One side of a connection: a pod, or a bare IP outside the cluster."""

    namespace: str | None
    name: str | None
    labels: dict = field(default_factory=dict)
    ip: str = ""
    ports: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}" if self.name else self.ip


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """``metav1.LabelSelector`` matching (``None`` matches nothing, ``{}`` everything)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def resolve(cluster, ref: str) -> Endpoint:
    """``namespace/pod`` (or an IP address) -> :class:`Endpoint`; ``ValueError`` if unknown."""
    if "/" not in ref:
        try:
            ipaddress.ip_address(ref)
        except ValueError:
            raise ValueError(f"{ref!r} is neither namespace/pod nor an IP address") from None
        for rt in cluster.kubelet.pods.values():
            if rt.pod_ip == ref:
                return resolve(cluster, f"{rt.namespace}/{rt.name}")
        return Endpoint(None, None, ip=ref)
    namespace, _, name = ref.partition("/")
    stored = cluster.store.get("pods", namespace, name)
    if stored is None:
        raise ValueError(f'pod "{name}" not found in namespace "{namespace}"')
    pod = stored.obj()
    ports = [p for c in (pod.get("spec") or {}).get("containers") or []
             for p in c.get("ports") or []]
    return Endpoint(namespace, name, dict(pod["metadata"].get("labels") or {}),
                    (pod.get("status") or {}).get("podIP", ""), ports)


def _namespace_labels(cluster, namespace: str) -> dict:
    stored = cluster.store.get("namespaces", "", namespace)
    return dict(stored.labels) if stored is not None else {}


def _peer_matches(cluster, peer: dict, policy_ns: str, other: Endpoint) -> bool:
    block = peer.get("ipBlock")
    if block is not None:
        if not other.ip:
            return False
        try:
            ip = ipaddress.ip_address(other.ip)
            if ip not in ipaddress.ip_network(block.get("cidr", ""), strict=False):
                return False
            return not any(ip in ipaddress.ip_network(e, strict=False)
                           for e in block.get("except") or [])
        except ValueError:
            return False
    if other.namespace is None:
        return False  # selectors only ever select pods
    ns_selector, pod_selector = peer.get("namespaceSelector"), peer.get("podSelector")
    if ns_selector is not None:
        if not selector_matches(ns_selector, _namespace_labels(cluster, other.namespace)):
            return False
    elif other.namespace != policy_ns:
        return False
    return pod_selector is None or selector_matches(pod_selector, other.labels)


def _port_matches(rule_port: dict, port: int | None, protocol: str, dest: Endpoint) -> bool:
    if (rule_port.get("protocol") or "TCP") != protocol:
        return False
    wanted = rule_port.get("port")
    if wanted is None or port is None:
        return True
    if isinstance(wanted, str):
        named = [p.get("containerPort") for p in dest.ports
                 if p.get("name") == wanted and (p.get("protocol") or "TCP") == protocol]
        return port in named
    end = rule_port.get("endPort")
    return wanted <= port <= end if end else wanted == port


def _direction(cluster, pod: Endpoint, other: Endpoint, dest: Endpoint, kind: str,
               peers_key: str, port: int | None, protocol: str) -> dict:
    """Verdict of one side (``kind`` is ``ingress`` or ``egress``)."""
    selecting, allowing = [], []
    if pod.namespace is None:
        return {"isolated": False, "allowed": True, "policies": [], "allowedBy": []}
    policy_type = "Ingress" if kind == "ingress" else "Egress"
    for stored in cluster.store.iter("networkpolicies", pod.namespace):
        policy = stored.obj()
        spec = policy.get("spec") or {}
        if policy_type not in (spec.get("policyTypes") or []):
            continue
        if not selector_matches(spec.get("podSelector") or {}, pod.labels):
            continue
        selecting.append(stored.name)
        for rule in spec.get(kind) or []:
            peers = rule.get(peers_key)
            if peers and not any(_peer_matches(cluster, p, pod.namespace, other)
                                 for p in peers):
                continue
            ports = rule.get("ports")
            if ports and not any(_port_matches(p, port, protocol, dest) for p in ports):
                continue
            allowing.append(stored.name)
            break
    return {"isolated": bool(selecting), "allowed": not selecting or bool(allowing),
            "policies": selecting, "allowedBy": allowing}


def reachable(cluster, source: str, target: str, port: int | None = None,
              protocol: str = "TCP") -> dict:
    """Whether ``source`` may open a connection to ``target`` under the stored policies."""
    protocol = (protocol or "TCP").upper()
    src, dst = resolve(cluster, source), resolve(cluster, target)
    if src.name and (src.namespace, src.name) == (dst.namespace, dst.name):
        return {"allowed": True, "from": src.label, "to": dst.label, "port": port,
                "protocol": protocol, "reason": "traffic from a pod to itself is always allowed",
                "ingress": {"isolated": False, "allowed": True, "policies": [],
                            "allowedBy": []},
                "egress": {"isolated": False, "allowed": True, "policies": [],
                           "allowedBy": []}}
    ingress = _direction(cluster, dst, src, dst, "ingress", "from", port, protocol)
    egress = _direction(cluster, src, dst, dst, "egress", "to", port, protocol)
    allowed = ingress["allowed"] and egress["allowed"]
    if allowed:
        reason = "allowed"
        if ingress["allowedBy"] or egress["allowedBy"]:
            reason += " by " + ", ".join(sorted(set(ingress["allowedBy"] + egress["allowedBy"])))
        else:
            reason += ": no policy isolates these pods"
    elif not ingress["allowed"]:
        reason = (f"ingress to {dst.label} is isolated by "
                  f"{', '.join(ingress['policies'])} and no rule allows it")
    else:
        reason = (f"egress from {src.label} is isolated by "
                  f"{', '.join(egress['policies'])} and no rule allows it")
    return {"allowed": allowed, "from": src.label, "to": dst.label, "port": port,
            "protocol": protocol, "reason": reason, "ingress": ingress, "egress": egress}
