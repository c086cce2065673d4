"""Authentication and RBAC authorization for kubesim (enforced with ``Config.rbac`` / ``--rbac``).

Who a request is:

- the admin token (``Config.token``, the one in kubesim's own kubeconfig): ``kubesim-admin``
  in group ``system:masters``, which the built-in ``cluster-admin`` binding allows everything;
- a ServiceAccount token from :meth:`Access.issue_token` (a real cluster's TokenRequest; the
  ServiceAccount must have been loaded): ``system:serviceaccount:<namespace>:<name>``;
- no ``Authorization`` header: ``system:anonymous`` (401 instead with ``require_auth``);
- anything else: 401 ``Unauthorized``.

Without ``rbac`` nothing changes from before: every authenticated or anonymous request is
allowed. With it, :mod:`kubesim.rbac.policy` decides, and a request outside the policy gets
kube-apiserver's 403, e.g. ``pods is forbidden: User "system:serviceaccount:ns:sa" cannot
create resource "pods" in API group "" in the namespace "ns"``.

Either way every request's user and attributes are written to the journal (``access``), so a
test can measure exactly which verbs on which resources a client used (:func:`usage`).
Policy objects and tokens survive :meth:`Cluster.reset` (they are the cluster's
configuration here, not API objects: kubesim does not serve ``rbac.authorization.k8s.io``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from ..errors import ApiError, unauthorized
from .attributes import (ADMIN, ANONYMOUS, Attributes, User, request_attributes,
                         service_account_user)
from .policy import KINDS, Policy

PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")

__all__ = ["Access", "Attributes", "KINDS", "Policy", "RequestAccess", "User", "forbidden",
           "request_attributes", "usage"]


@dataclass
class RequestAccess:
    """One request's identity, attributes and (once checked) decision, for the journal."""

    user: User | None            # None: the token was not recognised (401)
    attributes: Attributes
    decision: str | None = None  # "allowed", "forbidden", "unauthorized"; None: not reached
    reason: str = field(default="")

    def to_dict(self) -> dict:
        attrs = self.attributes
        return {"user": self.user.name if self.user else None,
                "groups": list(self.user.groups) if self.user else [],
                "verb": attrs.verb, "apiGroup": attrs.api_group, "resource": attrs.resource,
                "subresource": attrs.subresource, "namespace": attrs.namespace,
                "name": attrs.name, "path": attrs.path,
                "resourceRequest": attrs.resource_request, "decision": self.decision}


def forbidden(user: User, attrs: Attributes, reason: str = "") -> ApiError:
    """kube-apiserver's 403 for an RBAC denial (responsewriters.Forbidden + errors.NewForbidden)."""
    if attrs.resource_request:
        scope = (f'in the namespace "{attrs.namespace}"' if attrs.namespace
                 else "at the cluster scope")
        detail = (f'User "{user.name}" cannot {attrs.verb} resource "{attrs.combined_resource}" '
                  f'in API group "{attrs.api_group}" {scope}')
    else:
        detail = f'User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    if reason:
        detail = f"{detail}: {reason}"
    resource = attrs.resource if attrs.resource_request else ""
    qualified = f"{resource}.{attrs.api_group}" if resource and attrs.api_group else resource
    if not qualified:
        message = f"forbidden: {detail}"
    elif attrs.name:
        message = f'{qualified} "{attrs.name}" is forbidden: {detail}'
    else:
        message = f"{qualified} is forbidden: {detail}"
    details: dict = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group and resource:
        details["group"] = attrs.api_group
    details["kind"] = resource
    return ApiError(403, "Forbidden", message, details)


class Access:
    """The authenticator and authorizer of one simulated cluster."""

    def __init__(self, config):
        self.config = config
        self.policy = Policy()
        self._tokens: dict[str, tuple[str, str]] = {}

    @property
    def enforced(self) -> bool:
        return bool(self.config.rbac)

    # -- configuration -----------------------------------------------------------
    def apply(self, objects: list[dict]) -> list[dict]:
        """Load RBAC objects and ServiceAccounts; returns their keys."""
        keys = self.policy.apply(objects)
        return [{"kind": k, "namespace": ns, "name": n} for k, ns, n in keys]

    def clear(self) -> None:
        """Forget every loaded object and issued token."""
        self.policy.clear()
        self._tokens.clear()

    def issue_token(self, namespace: str, name: str) -> str:
        """A bearer token for a loaded ServiceAccount (what TokenRequest returns)."""
        if not self.policy.has_service_account(namespace, name):
            raise KeyError(f'serviceaccounts "{name}" not found in namespace "{namespace}"')
        token = f"kubesim-sa.{secrets.token_urlsafe(24)}"
        self._tokens[token] = (namespace, name)
        return token

    # -- per request ----------------------------------------------------------------
    def identify(self, header: str) -> User | None:
        """The user an ``Authorization`` header names; None for a token nobody issued."""
        if not header:
            return ANONYMOUS
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return None
        admin = self.config.token
        if admin and hmac.compare_digest(value.encode(), admin.encode()):
            return ADMIN
        account = self._tokens.get(value)
        if account is None or not self.policy.has_service_account(*account):
            return None  # unknown, or its ServiceAccount was removed
        return service_account_user(*account)

    def describe(self, method: str, path: str, query, header: str) -> RequestAccess:
        """Identity and attributes of a request (nothing decided yet)."""
        return RequestAccess(self.identify(header), request_attributes(method, path, query))

    def check(self, access: RequestAccess) -> None:
        """Raise 401 or 403 as kube-apiserver would; record the decision on ``access``."""
        user, attrs = access.user, access.attributes
        public = attrs.path in PUBLIC_PATHS
        if not self.enforced:
            # Authentication only, exactly as before RBAC existed: public paths and a server
            # without a token take anyone; a wrong token is 401, none is fine unless required.
            if self.config.token and not public and (
                    user is None or (user is ANONYMOUS and self.config.require_auth)):
                access.decision = "unauthorized"
                raise unauthorized()
            access.decision = "allowed"
            return
        # Enforced: bad credentials are 401 wherever they are sent; no credentials make the
        # anonymous user, whom RBAC then judges (the public-info paths let it in).
        if user is None or (user is ANONYMOUS and self.config.require_auth and not public):
            access.decision = "unauthorized"
            raise unauthorized()
        decision = self.policy.authorize(user, attrs)
        if decision.allowed:
            access.decision = "allowed"
            return
        access.decision, access.reason = "forbidden", decision.reason
        raise forbidden(user, attrs, decision.reason)


def usage(entries: list[dict], user: str | None = None) -> list[dict]:
    """Distinct (user, verb, apiGroup, resource, subresource, namespace) of journal entries,
    with how often each was used and how often it was refused."""
    counts: dict[tuple, dict] = {}
    for entry in entries:
        access = entry.get("access")
        if not access or (user is not None and access["user"] != user):
            continue
        if access["resourceRequest"]:
            key = (access["user"], access["verb"], access["apiGroup"], access["resource"],
                   access["subresource"], access["namespace"], "")
        else:
            key = (access["user"], access["verb"], "", "", "", "", access["path"])
        row = counts.setdefault(key, {
            "user": key[0], "verb": key[1], "apiGroup": key[2], "resource": key[3],
            "subresource": key[4], "namespace": key[5], "path": key[6], "count": 0,
            "forbidden": 0})
        row["count"] += 1
        row["forbidden"] += access["decision"] == "forbidden"
    return [counts[k] for k in sorted(counts, key=lambda k: tuple(str(x) for x in k))]
