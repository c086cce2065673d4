"""RBAC policy: Roles, ClusterRoles and their bindings, evaluated as kube-apiserver's RBAC
authorizer does (plugin/pkg/auth/authorizer/rbac).

- A request is allowed when some rule reachable from the user allows it: rules of every
  ClusterRoleBinding that names the user (any namespace, and the cluster scope), plus, for a
  namespaced request, rules of the RoleBindings *in that namespace* that name the user (their
  roleRef is a Role of that namespace or a ClusterRole, granted in that namespace only).
- A rule allows a resource request when its ``verbs``, ``apiGroups``, ``resources`` (``*``,
  the exact ``resource`` or ``resource/subresource``, or ``*/subresource``) and
  ``resourceNames`` (empty: any) all match; ``pods`` does not cover ``pods/log``. A
  non-resource request (``/healthz``) needs ``nonResourceURLs`` (exact, ``*``, or a prefix
  ending in ``*``) in a ClusterRole.
- A binding's ServiceAccount subject without a namespace means the binding's namespace.
- A roleRef naming a missing role grants nothing and is reported in the denial's reason
  (``RBAC: role.rbac.authorization.k8s.io "x" not found``), as the apiserver reports it.
- ClusterRoles with an ``aggregationRule`` get the rules of the ClusterRoles its
  ``matchLabels`` selectors select.

Built in, as a cluster bootstraps them: ``cluster-admin`` for group ``system:masters``,
``system:discovery`` and ``system:public-info-viewer``.
"""

from __future__ import annotations

from dataclasses import dataclass

RBAC_API = "rbac.authorization.k8s.io/v1"
KINDS = {"Role": RBAC_API, "ClusterRole": RBAC_API, "RoleBinding": RBAC_API,
         "ClusterRoleBinding": RBAC_API, "ServiceAccount": "v1"}
NAMESPACED = {"Role", "RoleBinding", "ServiceAccount"}

_DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz",
                   "/openapi", "/openapi/*", "/version", "/version/"]
_PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def _builtin() -> list[dict]:
    def cluster_role(name, rules):
        return {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": name},
                "rules": rules}

    def binding(name, role, groups):
        return {"apiVersion": RBAC_API, "kind": "ClusterRoleBinding", "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}
                             for g in groups]}

    return [
        cluster_role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                                       {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        cluster_role("system:discovery", [{"nonResourceURLs": _DISCOVERY_URLS, "verbs": ["get"]}]),
        cluster_role("system:public-info-viewer", [{"nonResourceURLs": _PUBLIC_URLS,
                                                    "verbs": ["get"]}]),
        binding("cluster-admin", "cluster-admin", ["system:masters"]),
        binding("system:discovery", "system:discovery", ["system:authenticated"]),
        binding("system:public-info-viewer", "system:public-info-viewer",
                ["system:authenticated", "system:unauthenticated"]),
    ]


BUILTIN = _builtin()


def _key(obj: dict) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    namespace = (meta.get("namespace") or "default") if obj["kind"] in NAMESPACED else ""
    return obj["kind"], namespace, meta.get("name") or ""


def validate(obj: dict) -> tuple[str, str, str]:
    """Check one object is an RBAC object or ServiceAccount kubesim can use; its key."""
    if not isinstance(obj, dict):
        raise ValueError("every RBAC object must be a mapping")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {sorted(KINDS)}")
    if obj.get("apiVersion") != KINDS[kind]:
        raise ValueError(f"{kind} must have apiVersion {KINDS[kind]}, not {obj.get('apiVersion')!r}")
    key = _key(obj)
    if not key[2]:
        raise ValueError(f"{kind} has no metadata.name")
    if kind in ("RoleBinding", "ClusterRoleBinding"):
        ref = obj.get("roleRef") or {}
        if ref.get("kind") not in ("Role", "ClusterRole") or not ref.get("name"):
            raise ValueError(f"{kind} {key[2]}: roleRef needs kind Role or ClusterRole and a name")
        if kind == "ClusterRoleBinding" and ref["kind"] != "ClusterRole":
            raise ValueError(f"ClusterRoleBinding {key[2]}: roleRef must be a ClusterRole")
    for rule in obj.get("rules") or []:
        if not isinstance(rule, dict) or not rule.get("verbs"):
            raise ValueError(f"{kind} {key[2]}: every rule needs verbs")
        if rule.get("nonResourceURLs") and kind != "ClusterRole":
            raise ValueError(f"{kind} {key[2]}: nonResourceURLs are only allowed in ClusterRoles")
    return key


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def _verb_matches(rule: dict, verb: str) -> bool:
    verbs = rule.get("verbs") or []
    return "*" in verbs or verb in verbs


def _group_matches(rule: dict, group: str) -> bool:
    groups = rule.get("apiGroups") or []
    return "*" in groups or group in groups


def _resource_matches(rule: dict, combined: str, subresource: str) -> bool:
    for resource in rule.get("resources") or []:
        if resource == "*" or resource == combined:
            return True
        if subresource and resource == f"*/{subresource}":
            return True
    return False


def _name_matches(rule: dict, name: str) -> bool:
    names = rule.get("resourceNames") or []
    return not names or name in names


def _url_matches(rule: dict, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or []:
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url.rstrip("*"))):
            return True
    return False


def rule_allows(rule: dict, attrs) -> bool:
    """One PolicyRule against one request's attributes."""
    if not _verb_matches(rule, attrs.verb):
        return False
    if attrs.resource_request:
        return (_group_matches(rule, attrs.api_group)
                and _resource_matches(rule, attrs.combined_resource, attrs.subresource)
                and _name_matches(rule, attrs.name))
    return _url_matches(rule, attrs.path)


def _applies(subject: dict, user, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return bool(namespace) and user.name == f"system:serviceaccount:{namespace}:{name}"
    return False


class Policy:
    """The loaded RBAC objects (plus the built-in ones) and the decisions they give."""

    def __init__(self):
        self.objects: dict[tuple[str, str, str], dict] = {}

    def apply(self, objects: list[dict]) -> list[tuple[str, str, str]]:
        """Create or replace objects by kind, namespace and name (all checked first)."""
        keys = [validate(obj) for obj in objects]
        for key, obj in zip(keys, objects):
            self.objects[key] = obj
        return keys

    def clear(self) -> None:
        self.objects.clear()

    def has_service_account(self, namespace: str, name: str) -> bool:
        return ("ServiceAccount", namespace, name) in self.objects

    def _of_kind(self, kind: str):
        for obj in BUILTIN:
            if obj["kind"] == kind:
                yield obj
        for (k, _, _), obj in self.objects.items():
            if k == kind:
                yield obj

    def _cluster_role(self, name: str) -> dict | None:
        return next((o for o in self._of_kind("ClusterRole") if o["metadata"]["name"] == name), None)

    def _cluster_role_rules(self, role: dict) -> list[dict]:
        rules = list(role.get("rules") or [])
        for selector in (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []:
            wanted = selector.get("matchLabels") or {}
            for other in self._of_kind("ClusterRole"):
                labels = other.get("metadata", {}).get("labels") or {}
                if other is not role and wanted and all(labels.get(k) == v for k, v in wanted.items()):
                    rules.extend(other.get("rules") or [])
        return rules

    def _role_rules(self, ref: dict, namespace: str, errors: list[str]) -> list[dict]:
        if ref.get("kind") == "ClusterRole":
            role = self._cluster_role(ref["name"])
            if role is None:
                errors.append(f'clusterrole.rbac.authorization.k8s.io "{ref["name"]}" not found')
                return []
            return self._cluster_role_rules(role)
        role = self.objects.get(("Role", namespace, ref["name"]))
        if role is None:
            errors.append(f'role.rbac.authorization.k8s.io "{ref["name"]}" not found')
            return []
        return list(role.get("rules") or [])

    def authorize(self, user, attrs) -> Decision:
        """Allowed, or not with the reason the apiserver appends (binding errors)."""
        errors: list[str] = []
        for binding in self._of_kind("ClusterRoleBinding"):
            if any(_applies(s, user, "") for s in binding.get("subjects") or []):
                if any(rule_allows(r, attrs) for r in self._role_rules(binding["roleRef"], "", errors)):
                    return Decision(True)
        if attrs.namespace:
            for (kind, namespace, _), binding in self.objects.items():
                if kind != "RoleBinding" or namespace != attrs.namespace:
                    continue
                if any(_applies(s, user, namespace) for s in binding.get("subjects") or []):
                    rules = self._role_rules(binding["roleRef"], namespace, errors)
                    if any(rule_allows(r, attrs) for r in rules):
                        return Decision(True)
        if not errors:
            return Decision(False)
        reason = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        return Decision(False, f"RBAC: {reason}")
