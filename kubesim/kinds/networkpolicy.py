"""``networking.k8s.io/v1`` NetworkPolicy: defaults, validation, ``kubectl get`` row.

Validation follows ``pkg/apis/networking/validation``: label selectors, ports
(protocol, number or IANA name, ``endPort``), peers (selectors *or*
``ipBlock`` with a CIDR and strict-subset ``except``), ``policyTypes``.
Defaulting adds ``protocol: TCP`` to ports and derives ``policyTypes``
(``Ingress``, plus ``Egress`` when egress rules are given).  Policies are only
stored; :mod:`kubesim.netpol` evaluates them for ``/_kubesim/reachable``.
"""

from __future__ import annotations

import ipaddress

from .. import names
from ..errors import FieldError
from ..strategy import Strategy
from ..tables import age_cell, column

PROTOCOLS = ["SCTP", "TCP", "UDP"]
POLICY_TYPES = ["Egress", "Ingress"]
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_selector(selector, path: str) -> list[FieldError]:
    """``metav1validation.ValidateLabelSelector``."""
    errors: list[FieldError] = []
    if selector is None:
        return errors
    if not isinstance(selector, dict):
        return [FieldError("Invalid", path, selector, "must be an object")]
    for key, value in (selector.get("matchLabels") or {}).items():
        errors += [FieldError("Invalid", f"{path}.matchLabels", key, p)
                   for p in names.qualified_name(key)]
        errors += [FieldError("Invalid", f"{path}.matchLabels", value, p)
                   for p in names.label_value(str(value))]
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        epath = f"{path}.matchExpressions[{i}]"
        op, values = expr.get("operator"), expr.get("values") or []
        if op in ("In", "NotIn") and not values:
            errors.append(FieldError("Required", f"{epath}.values",
                                     detail="must be specified when `operator` is 'In' or "
                                            "'NotIn'"))
        elif op in ("Exists", "DoesNotExist") and values:
            errors.append(FieldError("Forbidden", f"{epath}.values",
                                     detail="may not be specified when `operator` is 'Exists' "
                                            "or 'DoesNotExist'"))
        elif op not in OPERATORS:
            errors.append(FieldError("Invalid", f"{epath}.operator", op,
                                     "not a valid selector operator"))
        errors += [FieldError("Invalid", f"{epath}.key", expr.get("key"), p)
                   for p in names.qualified_name(str(expr.get("key") or ""))]
        for value in values:
            errors += [FieldError("Invalid", f"{epath}.values", value, p)
                       for p in names.label_value(str(value))]
    return errors


def _ports(ports, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, port in enumerate(ports or []):
        ppath = f"{path}[{i}]"
        protocol = port.get("protocol")
        if protocol not in PROTOCOLS:
            errors.append(FieldError("NotSupported", f"{ppath}.protocol", protocol,
                                     supported=PROTOCOLS))
        number = port.get("port")
        end = port.get("endPort")
        if isinstance(number, bool) or (number is not None
                                        and not isinstance(number, (int, str))):
            errors.append(FieldError("Invalid", f"{ppath}.port", number, "must be an integer "
                                                                          "or a string"))
        elif isinstance(number, int):
            if not 0 < number < 65536:
                errors.append(FieldError("Invalid", f"{ppath}.port", number,
                                         "must be between 1 and 65535, inclusive"))
            if end is not None and (not isinstance(end, int) or end < number):
                errors.append(FieldError("Invalid", f"{ppath}.endPort", end,
                                         "must be greater than or equal to `port`"))
        elif isinstance(number, str):
            errors += [FieldError("Invalid", f"{ppath}.port", number, p)
                       for p in names.port_name(number)]
            if end is not None:
                errors.append(FieldError("Invalid", f"{ppath}.endPort", end,
                                         "may not be specified when `port` is non-numeric"))
        elif end is not None:
            errors.append(FieldError("Invalid", f"{ppath}.endPort", end,
                                     "may not be specified when `port` is not specified"))
        if isinstance(end, int) and not 0 < end < 65536:
            errors.append(FieldError("Invalid", f"{ppath}.endPort", end,
                                     "must be between 1 and 65535, inclusive"))
    return errors


def _network(value):
    try:
        return ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError):
        return None


def _peers(peers, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, peer in enumerate(peers or []):
        ppath = f"{path}[{i}]"
        if not isinstance(peer, dict):
            errors.append(FieldError("Invalid", ppath, peer, "must be an object"))
            continue
        selectors = [k for k in ("podSelector", "namespaceSelector") if peer.get(k) is not None]
        block = peer.get("ipBlock")
        if block is not None and selectors:
            errors.append(FieldError("Forbidden", ppath,
                                     detail="may not specify both ipBlock and another peer"))
        elif block is None and not selectors:
            errors.append(FieldError("Required", ppath, detail="must specify a peer"))
        for key in selectors:
            errors += validate_selector(peer[key], f"{ppath}.{key}")
        if block is not None:
            cidr = (block or {}).get("cidr")
            network = _network(cidr)
            if not cidr:
                errors.append(FieldError("Required", f"{ppath}.ipBlock.cidr"))
            elif network is None:
                errors.append(FieldError("Invalid", f"{ppath}.ipBlock.cidr", cidr,
                                         "must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                                         "2001:db8::/64)"))
            for j, exc in enumerate((block or {}).get("except") or []):
                inner = _network(exc)
                epath = f"{ppath}.ipBlock.except[{j}]"
                if inner is None:
                    errors.append(FieldError("Invalid", epath, exc,
                                             "must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                                             "2001:db8::/64)"))
                elif network is not None and (inner.version != network.version
                                              or not inner.subnet_of(network)
                                              or inner == network):
                    errors.append(FieldError("Invalid", epath, exc,
                                             "must be a strict subset of `cidr`"))
    return errors


class NetworkPolicyStrategy(Strategy):
    """NetworkPolicy semantics (``pkg/registry/networking/networkpolicy``)."""

    def prepare_create(self, cluster, obj):
        self._defaults(obj)

    def prepare_update(self, cluster, new, old, subresource):
        super().prepare_update(cluster, new, old, subresource)
        self._defaults(new)

    @staticmethod
    def _defaults(obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("podSelector", {})
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                if isinstance(rule, dict):
                    for port in rule.get("ports") or []:
                        if isinstance(port, dict):
                            port.setdefault("protocol", "TCP")
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])

    def validate(self, cluster, obj):
        errors = super().validate(cluster, obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return errors + [FieldError("Required", "spec")]
        errors += validate_selector(spec.get("podSelector"), "spec.podSelector")
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for i, rule in enumerate(spec.get(direction) or []):
                path = f"spec.{direction}[{i}]"
                if not isinstance(rule, dict):
                    errors.append(FieldError("Invalid", path, rule, "must be an object"))
                    continue
                errors += _ports(rule.get("ports"), f"{path}.ports")
                errors += _peers(rule.get(key), f"{path}.{key}")
        types = spec.get("policyTypes") or []
        for i, kind in enumerate(types):
            if kind not in POLICY_TYPES:
                errors.append(FieldError("NotSupported", f"spec.policyTypes[{i}]", kind,
                                         supported=POLICY_TYPES))
        if len(types) > 2:
            errors.append(FieldError("Invalid", "spec.policyTypes", types,
                                     "may not specify more than two policyTypes"))
        return errors

    def table(self, cluster, obj):
        selector = format_selector((obj.get("spec") or {}).get("podSelector") or {})
        return ([column("Name", fmt="name"), column("Pod-Selector"), column("Age")],
                [obj["metadata"]["name"], selector, age_cell(cluster, obj)])


def format_selector(selector: dict) -> str:
    """``metav1.FormatLabelSelector``: ``app=web,tier in (a,b)`` or ``<none>``."""
    requirements = []
    for key, value in (selector.get("matchLabels") or {}).items():
        requirements.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), \
            sorted(expr.get("values") or [])
        text = {"In": f"{key} in ({','.join(values)})",
                "NotIn": f"{key} notin ({','.join(values)})", "Exists": key,
                "DoesNotExist": f"!{key}"}.get(op, key)
        requirements.append((key, text))
    if not requirements:
        return "<none>"
    return ",".join(text for _, text in sorted(requirements))
