"""``ensure_jupyter_pod``: the caller's Jupyter pod, created from the catalog's template when
there is none (upstream's contract: a pod named ``tapistempjupyter<user><NNN>``, stopping
after 48 hours), and uploads into it (upstream's is a stub; ours writes the file through exec)."""
import re

from django.conf import settings

from core.errors import BadRequest
from core.permissions import PermissionLevel
from pods.choices import RequestedStatus
from pods.models import Pod

from .pods import pod_create

JUPYTER_TTL = 48 * 3600
JUPYTER_ROOT = "/home/jovyan"  # the Jupyter docker stacks' home: where a relative upload path lands


def is_jupyter(pod) -> bool:
    template_id = (settings.PODS_JUPYTER_TEMPLATE.split(":", 1)[0]) + ":"
    return (pod.template or "").startswith(template_id)


def render_jupyter(pod) -> dict:
    url = ((pod.networking or {}).get("default") or {}).get("url", "")
    return {"pod_id": pod.pod_id, "status": pod.status, "status_requested": pod.status_requested,
            "networking": pod.networking, "url": f"https://{url}" if url else ""}


def ensure_jupyter_pod(*, principal) -> tuple[Pod, bool]:
    """``(pod, created)``: the caller's newest Jupyter pod that is ON (USER or more on it), or a new one."""
    mine = [pod for pod in Pod.objects.visible_to(principal).with_level(principal).select_related("tenant")
            .order_by("-creation_ts") if pod.level >= PermissionLevel.USER and is_jupyter(pod)]
    running = [pod for pod in mine if pod.status_requested == RequestedStatus.ON]
    if running:
        return running[0], False
    base = "tapistempjupyter" + re.sub(r"[^a-z0-9]", "", principal.username.lower())
    base = base[:61]
    taken = set(Pod.objects.filter(tenant=principal.tenant, pod_id__startswith=base).values_list("pod_id", flat=True))
    pod_id = next((f"{base}{n:03d}" for n in range(1, 1000) if f"{base}{n:03d}" not in taken), None)
    if pod_id is None:
        raise BadRequest("Exceeded the maximum number of Jupyter pods (999) for this user.")
    pod = pod_create(principal=principal, data={
        "pod_id": pod_id, "template": settings.PODS_JUPYTER_TEMPLATE, "time_to_stop_default": JUPYTER_TTL,
        "description": "Pod created by ensure_jupyter_pod. Stops in 48 hours."})
    return pod, True


def jupyter_path(raw: str) -> str:
    """An upload path for a Jupyter pod: relative to the notebook root, or absolute."""
    from .files import clean_pod_path

    raw = (raw or "").strip()
    if not raw:
        raise BadRequest("path is required: where to put the file (relative to the notebook root).")
    return clean_pod_path(raw if raw.startswith("/") else f"{JUPYTER_ROOT}/{raw}")
