"""Who may pass the proxy to a pod's URL when its networking entry asks for ``tapis_auth``.

Traefik's forwardAuth sends every request for such a URL to ``GET /v3/pods/{pod_id_net}/auth``
first; a 200 lets it through with the headers named by ``tapis_auth_response_headers``.
``tapis_auth_allowed_users`` holds usernames (case-insensitive), ``*`` (any user of the
tenant), or ``AUTHORIZED_READS`` / ``AUTHORIZED_USERS`` / ``AUTHORIZED_ADMINS`` (users holding at
least that level on the pod); an empty list admits every user of the tenant.
"""
from dataclasses import dataclass, field

from core.permissions import PermissionLevel
from pods.models import Pod, PodPermission

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
