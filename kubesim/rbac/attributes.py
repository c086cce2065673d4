"""Who asks for what: a request's user and its authorization attributes.

The attributes are derived from the method, path and query alone, as kube-apiserver's
``RequestInfoFactory`` does (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), so they
exist for every request, including ones for resources kubesim does not serve:

- ``/api/v1/...`` is the core group ``""``, ``/apis/{group}/{version}/...`` a named group;
  anything else (``/api``, ``/apis/g``, ``/version``, ``/healthz``) is a non-resource request
  whose verb is the lower-case HTTP method.
- ``POST`` create, ``GET``/``HEAD`` get, ``PUT`` update, ``PATCH`` patch, ``DELETE`` delete;
  a ``GET`` without a name is list, or watch with ``?watch=true`` (or the ``/watch/`` prefix);
  a ``DELETE`` without a name is deletecollection. A ``fieldSelector`` requiring
  ``metadata.name=X`` names the object of a list or watch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Namespace subresources: /api/v1/namespaces/{name}/{status|finalize}.
NAMESPACE_SUBRESOURCES = ("status", "finalize")
SPECIAL_VERBS = ("proxy", "watch")
_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
                 "DELETE": "delete"}
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@dataclass(frozen=True)
class User:
    """An authenticated (or anonymous) identity."""

    name: str
    groups: tuple[str, ...] = ()


ANONYMOUS = User("system:anonymous", ("system:unauthenticated",))
ADMIN = User("kubesim-admin", ("system:masters", "system:authenticated"))


def service_account_user(namespace: str, name: str) -> User:
    """The identity a ServiceAccount token authenticates as."""
    return User(f"system:serviceaccount:{namespace}:{name}",
                ("system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                 "system:authenticated"))


@dataclass(frozen=True)
class Attributes:
    """What RBAC decides on (authorizer.Attributes)."""

    verb: str
    path: str
    resource_request: bool = False
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def combined_resource(self) -> str:
        """``pods`` or ``pods/log``: what a rule's ``resources`` entry is compared with."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def to_dict(self) -> dict:
        return asdict(self)


def _watch_requested(values: list[str]) -> bool:
    # Go's ParameterCodec parses a bool; a value it cannot parse still counts as a watch
    # unless it reads as false (requestinfo.go's fallback).
    if not values:
        return False
    value = values[0]
    if value in _TRUE:
        return True
    if value in _FALSE or value == "":
        return False
    return value.lower() not in ("false", "0")


def _name_from_field_selector(selector: str) -> str:
    """``X`` when the selector requires ``metadata.name=X`` (or ``==``), else ``""``."""
    for term in (selector or "").split(","):
        term = term.strip()
        if "!=" in term:
            continue
        key, sep, value = term.partition("==") if "==" in term else term.partition("=")
        if sep and key.strip() == "metadata.name":
            value = value.strip()
            # path.IsValidPathSegmentName: the name must be usable as one path segment.
            if value and value not in (".", "..") and "/" not in value and "%" not in value:
                return value
    return ""


def request_attributes(method: str, path: str, query) -> Attributes:
    """Attributes of one HTTP request (``query``: a multidict or ``{name: [values]}``)."""
    def getall(name: str) -> list[str]:
        if hasattr(query, "getall"):
            return list(query.getall(name, []))
        value = query.get(name)
        return [] if value is None else (list(value) if isinstance(value, (list, tuple)) else [value])

    non_resource = Attributes(verb=method.lower(), path=path)
    parts = [p for p in path.strip("/").split("/")] if path.strip("/") else []
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return non_resource
    prefix, parts = parts[0], parts[1:]
    group = ""
    if prefix == "apis":
        if len(parts) < 3:
            return non_resource
        group, parts = parts[0], parts[1:]
    version, parts = parts[0], parts[1:]
    if parts[0] in SPECIAL_VERBS:
        if len(parts) < 2:
            return Attributes(verb=parts[0], path=path, resource_request=True, api_group=group,
                              api_version=version)
        verb, parts = parts[0], parts[1:]
    else:
        verb = _METHOD_VERBS.get(method.upper(), "")
    namespace = ""
    if parts[0] == "namespaces" and len(parts) > 1:
        namespace = parts[1]
        if len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
            parts = parts[2:]
    resource = parts[0]
    name = parts[1] if len(parts) >= 2 else ""
    subresource = parts[2] if len(parts) >= 3 and verb != "proxy" else ""
    if not name and verb == "get":
        verb = "watch" if _watch_requested(getall("watch")) else "list"
        selectors = getall("fieldSelector")
        name = _name_from_field_selector(selectors[0]) if selectors else ""
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(verb=verb, path=path, resource_request=True, api_group=group,
                      api_version=version, resource=resource, subresource=subresource,
                      namespace=namespace, name=name)
