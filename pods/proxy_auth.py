"""Who may pass the proxy to a pod's URL when its networking entry asks for ``tapis_auth``.

Traefik's forwardAuth sends every request for such a URL to
``GET /v3/pods/{pod_id_net}/auth?tenant={tenant_id}`` first; a 200 lets it through with the
headers named by ``tapis_auth_response_headers``. ``tapis_auth_allowed_users`` holds usernames
(case-insensitive), ``*`` (any user of the tenant), or ``AUTHORIZED_READS`` /
``AUTHORIZED_USERS`` / ``AUTHORIZED_ADMINS`` (users holding at least that level on the pod); an
empty list admits every user of the tenant.

The pod is identified by its tenant and id, never by the caller's tenant: two tenants may both
have a pod ``mypod``, and a user of one must never pass the other's proxy. The tenant comes from
the address (``?tenant=``, which ``/traefik-config`` always writes), else from the host Traefik
forwards (``X-Forwarded-Host``: pod domains are unique per tenant), else, for a direct call
without either, it is the caller's. A caller of another tenant is refused, and a forwarded host
must be the URL of the networking entry asked about.
"""
from dataclasses import dataclass, field

from core.errors import Forbidden, NotFound
from core.permissions import PermissionLevel
from pods.models import Pod, PodPermission
from tenancy.models import Tenant

LEVEL_GROUPS = {
    "AUTHORIZED_READS": PermissionLevel.READ,
    "AUTHORIZED_USERS": PermissionLevel.USER,
    "AUTHORIZED_ADMINS": PermissionLevel.ADMIN,
}


@dataclass
class Decision:
    allowed: bool
    reason: str
    headers: dict = field(default_factory=dict)


def split_pod_id_net(pod_id_net: str) -> tuple[str, str]:
    """``mypod`` → (``mypod``, ``default``); ``mypod-bolt`` → (``mypod``, ``bolt``)."""
    pod_id, _, key = pod_id_net.partition("-")
    return pod_id, key or "default"


def _level(pod: Pod, username: str) -> int:
    levels = PodPermission.objects.filter(pod=pod, username__in=(username, "*")).values_list("level", flat=True)
    return max(levels, default=0)


def _headers(entry: dict, principal) -> dict:
    substitutions = {"<<tapisusername>>": principal.username, "<<tapistenantid>>": principal.tenant.tenant_id,
                     "<<tapissiteid>>": principal.tenant.site_id}
    headers = {}
    for name, template in (entry.get("tapis_auth_response_headers") or {}).items():
        value = str(template)
        for placeholder, replacement in substitutions.items():
            value = value.replace(placeholder, replacement)
        headers[name] = value
    return headers


def decide(pod: Pod, key: str, principal) -> Decision:
    """Whether ``principal`` may reach networking entry ``key`` of ``pod``."""
    entry = (pod.networking or {}).get(key)
    if entry is None or not entry.get("tapis_auth"):
        return Decision(False, f"Pod '{pod.pod_id}' has no networking entry '{key}' protected by tapis_auth.")
    allowed = entry.get("tapis_auth_allowed_users") or []
    username = principal.username.lower()
    if not allowed or "*" in allowed or username in {u.lower() for u in allowed}:
        return Decision(True, "allowed", _headers(entry, principal))
    needed = [LEVEL_GROUPS[g] for g in allowed if g in LEVEL_GROUPS]
    if needed and _level(pod, principal.username) >= min(needed):
        return Decision(True, "allowed", _headers(entry, principal))
    return Decision(False, f"User '{principal.username}' is not allowed through to pod '{pod.pod_id}'.")


def _host(value: str) -> str:
    """A host header's name: lowercase, without port or trailing dot."""
    host = value.strip().lower()
    if host.startswith("["):  # [v6]:port
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def _tenant_of_host(host: str) -> Tenant | None:
    """The tenant whose pod URLs (``<label>.pods.<domain>``) include ``host``."""
    _, _, rest = host.partition(".")
    if not rest.startswith("pods."):
        return None
    return Tenant.objects.filter(pod_domain__iexact=rest[len("pods."):]).first()


def locate(*, principal, pod_id_net: str, tenant_id: str | None = None,
           forwarded_host: str | None = None) -> tuple[Pod, str]:
    """The pod and networking key a forwardAuth request is about, checked against the caller.

    404 when there is no such pod (or tenant); 403 when the caller belongs to another tenant, or
    the forwarded host is not the URL of that networking entry.
    """
    pod_id, key = split_pod_id_net(pod_id_net)
    host = _host(forwarded_host) if forwarded_host else None
    if tenant_id:
        tenant = Tenant.objects.filter(tenant_id=tenant_id).first()
    elif host:
        tenant = _tenant_of_host(host)
    else:
        tenant = principal.tenant
    if tenant is None:
        raise NotFound(f"Pod with identifier pod_id: '{pod_id}' not found.")
    if tenant.pk != principal.tenant.pk:
        raise Forbidden(f"User '{principal.username}' of tenant '{principal.tenant_id}' cannot pass the "
                        f"proxy of a pod of another tenant.")
    pod = Pod.objects.filter(tenant=tenant, pod_id=pod_id).select_related("tenant").first()
    if pod is None:
        raise NotFound(f"Pod with identifier pod_id: '{pod_id}' not found.")
    entry = (pod.networking or {}).get(key)
    if host is not None and (entry is None or "," in forwarded_host
                             or host != _host(entry.get("url") or "")):
        raise Forbidden(f"The forwarded host is not the URL of networking entry '{key}' of pod '{pod_id}'.")
    return pod, key


def locate_for_browser(*, pod_id_net: str, tenant_id: str | None, forwarded_host: str | None):
    """The pod and key a token-less forwardAuth request is about, from the address alone (no
    caller yet): ``(None, key)`` when the request names no tenant; 404 when there is no such pod,
    403 when the forwarded host is not that entry's URL."""
    pod_id, key = split_pod_id_net(pod_id_net)
    host = _host(forwarded_host) if forwarded_host else None
    if tenant_id:
        tenant = Tenant.objects.filter(tenant_id=tenant_id).first()
    elif host:
        tenant = _tenant_of_host(host)
    else:
        return None, key
    pod = Pod.objects.filter(tenant=tenant, pod_id=pod_id).select_related("tenant").first() if tenant else None
    if pod is None:
        raise NotFound(f"Pod with identifier pod_id: '{pod_id}' not found.")
    entry = (pod.networking or {}).get(key)
    if host is not None and (entry is None or "," in forwarded_host or host != _host(entry.get("url") or "")):
        raise Forbidden(f"The forwarded host is not the URL of networking entry '{key}' of pod '{pod_id}'.")
    return pod, key
