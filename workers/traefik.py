"""Traefik dynamic configuration for every AVAILABLE pod (served raw at ``/traefik-config``).

Traefik's HTTP provider polls it. Per networking entry:

- ``http``: a router on ``Host(`url`)`` with TLS, plus middlewares for the IP allow-list, CORS
  and Tapis auth (forwardAuth to this service's ``/v3/pods/{pod_id_net}/auth?tenant={tenant}``);
- ``tcp``: a TCP router on ``HostSNI(`url`)`` terminating TLS;
- ``postgres``: the same with TLS passthrough (Postgres negotiates TLS itself);
- ``local_only``: nothing (reachable inside the cluster only).

At scale it is rendered once per change: :func:`cached_config` keys the rendered bytes by a
version read in two aggregate queries (count, id sum, latest change times and networking hash
of the AVAILABLE pods; the CORS approvals), and serves them with an ``ETag`` (a hash of the bytes) so Traefik's
polls answer ``304 Not Modified`` when nothing changed.
"""
import hashlib
import threading

import orjson
from django.conf import settings
from django.db.models import Count, Exists, Func, IntegerField, Max, OuterRef, Sum, TextField
from django.db.models.functions import Cast

from core.permissions import PermissionLevel
from pods.choices import PodStatus
from pods.models import Pod, PodPermission


def _upstream(pod: Pod, port: int) -> str:
    return f"{pod.k8_name}.{settings.PODS_KUBE_NAMESPACE}.svc:{port}"


def _tls() -> dict:
    resolver = settings.PODS_TRAEFIK_CERT_RESOLVER
    return {"certResolver": resolver} if resolver else {}


def _http_middlewares(name: str, pod: Pod, key: str, entry: dict, middlewares: dict) -> list:
    names = []
    if entry.get("ip_allow_list"):
        middlewares[f"{name}-ipallowlist"] = {"ipAllowList": {"sourceRange": list(entry["ip_allow_list"])}}
        names.append(f"{name}-ipallowlist")
    # As upstream: CORS origins take effect only once a site admin has vouched for the pod by
    # granting someone APPROVEDADMIN on it (a pod could otherwise open itself to any origin).
    if entry.get("cors_allow_origins") and getattr(pod, "cors_approved", False):
        middlewares[f"{name}-cors"] = {"headers": {
            "accessControlAllowOriginList": list(entry["cors_allow_origins"]),
            "accessControlAllowMethods": list(entry.get("cors_allow_methods") or []),
            "accessControlAllowHeaders": list(entry.get("cors_allow_headers") or []),
            "accessControlAllowCredentials": bool(entry.get("cors_allow_credentials")),
            "accessControlMaxAge": int(entry.get("cors_max_age") or 0),
            "addVaryHeader": True,
        }}
        names.append(f"{name}-cors")
    if entry.get("tapis_auth"):
        # The address names the pod's tenant: a pod id alone is ambiguous across tenants.
        base = settings.PODS_PUBLIC_URL.rstrip("/")
        pod_id_net = pod.pod_id if key == "default" else f"{pod.pod_id}-{key}"
        middlewares[f"{name}-auth"] = {"forwardAuth": {
            "address": f"{base}/v3/pods/{pod_id_net}/auth?tenant={pod.tenant.tenant_id}",
            "authResponseHeaders": sorted((entry.get("tapis_auth_response_headers") or {}).keys()),
        }}
        names.append(f"{name}-auth")
    return names


# --- Browser access (parity2): login callback, friendly error pages ----------------------------

SERVICE = "pods-service"  # this service itself, as Traefik reaches it (PODS_PUBLIC_URL)
ERRORS_MIDDLEWARE = "pods-errors"
SPLASH_ROUTER = "pods-splash"


def _login_router(http: dict, name: str, pod: Pod, key: str, url: str) -> None:
    """``https://<pod host>/v3/pods/<pod_id_net>/auth/…`` (the login callback, logout) reaches this
    service, not the pod, and without forwardAuth (the browser has no session yet)."""
    pod_id_net = pod.pod_id if key == "default" else f"{pod.pod_id}-{key}"
    http["routers"][f"{name}-login"] = {
        "rule": f"Host(`{url}`) && PathPrefix(`/v3/pods/{pod_id_net}/auth/`)", "service": SERVICE,
        "entryPoints": [settings.PODS_TRAEFIK_HTTP_ENTRYPOINT], "tls": _tls()}


def _browser_pages(http: dict) -> None:
    """The errors middleware every pod router uses (a pod that fails to answer: the starting /
    stopped page instead of a bare 502), and a catch-all router sending every other pod host
    (a pod starting, stopped, or unknown) to the same pages. Both are served by ``error_handler``
    and ``pod_splash``, which read the host Traefik forwards."""
    http["middlewares"][ERRORS_MIDDLEWARE] = {"errors": {"status": ["502-504"], "service": SERVICE,
                                                         "query": "/error-handler/{status}"}}
    http["middlewares"]["pods-splash-path"] = {"replacePath": {"path": "/pod-splash"}}
    http["routers"][SPLASH_ROUTER] = {
        "rule": "HostRegexp(`^[a-z0-9-]+\\.pods\\..+$`)", "priority": 1, "service": SERVICE,
        "entryPoints": [settings.PODS_TRAEFIK_HTTP_ENTRYPOINT], "tls": _tls(),
        "middlewares": ["pods-splash-path"]}
    http["services"][SERVICE] = {"loadBalancer": {"passHostHeader": True,
                                                  "servers": [{"url": settings.PODS_PUBLIC_URL.rstrip("/")}]}}


def render(pods) -> dict:
    """The dynamic configuration for ``pods`` (pure apart from reading settings)."""
    http = {"routers": {}, "services": {}, "middlewares": {}}
    tcp = {"routers": {}, "services": {}}
    for pod in pods:
        for key, entry in sorted((pod.networking or {}).items()):
            protocol, url, port = entry.get("protocol", "http"), entry.get("url"), entry.get("port")
            if protocol == "local_only" or not url or not port:
                continue
            name = pod.k8_name if key == "default" else f"{pod.k8_name}-{key}"
            if protocol == "http":
                router = {"rule": f"Host(`{url}`)", "service": name, "entryPoints": [settings.PODS_TRAEFIK_HTTP_ENTRYPOINT],
                          "tls": _tls()}
                chain = _http_middlewares(name, pod, key, entry, http["middlewares"])
                chain.append(ERRORS_MIDDLEWARE)
                router["middlewares"] = chain
                http["routers"][name] = router
                if entry.get("tapis_auth"):
                    _login_router(http, name, pod, key, url)
                http["services"][name] = {"loadBalancer": {"servers": [{"url": f"http://{_upstream(pod, port)}"}]}}
            else:
                tls = {"passthrough": True} if protocol == "postgres" else _tls()
                router = {"rule": f"HostSNI(`{url}`)", "service": name,
                          "entryPoints": [settings.PODS_TRAEFIK_TCP_ENTRYPOINT], "tls": tls}
                if entry.get("ip_allow_list"):
                    tcp.setdefault("middlewares", {})[f"{name}-ipallowlist"] = {
                        "ipAllowList": {"sourceRange": list(entry["ip_allow_list"])}}
                    router["middlewares"] = [f"{name}-ipallowlist"]
                tcp["routers"][name] = router
                tcp["services"][name] = {"loadBalancer": {"servers": [{"address": _upstream(pod, port)}]}}
    _browser_pages(http)
    return {"http": http, "tcp": tcp}


def current_config() -> dict:
    """Configuration for every AVAILABLE pod of every tenant: one query."""
    approved = PodPermission.objects.filter(pod=OuterRef("pk"), level__gte=PermissionLevel.APPROVEDADMIN)
    pods = (Pod.objects.filter(status=PodStatus.AVAILABLE).select_related("tenant")
            .only("pod_id", "networking", "tenant__site_id", "tenant__tenant_id")
            .annotate(cors_approved=Exists(approved)).order_by("pk"))
    return render(pods)


def config_version() -> tuple:
    """Everything the configuration depends on that can change, in one query per table: which
    pods are AVAILABLE (count, id sum, latest transition), their definitions (latest
    ``update_ts`` and a sum of their networking's hashes, so even a direct edit counts) and who
    is APPROVEDADMIN on them (the CORS vouching)."""
    pods = Pod.objects.filter(status=PodStatus.AVAILABLE).aggregate(
        n=Count("pk"), ids=Sum("pk"), changed=Max("status_changed_at"), updated=Max("update_ts"),
        networking=Sum(Func(Cast("networking", TextField()), function="hashtext", output_field=IntegerField())))
    approvals = PodPermission.objects.filter(level__gte=PermissionLevel.APPROVEDADMIN).aggregate(
        n=Count("pk"), ids=Sum("pk"), pods=Sum("pod_id"))
    rendering = (settings.PODS_PUBLIC_URL, settings.PODS_KUBE_NAMESPACE, settings.PODS_TRAEFIK_CERT_RESOLVER,
                 settings.PODS_TRAEFIK_HTTP_ENTRYPOINT, settings.PODS_TRAEFIK_TCP_ENTRYPOINT)
    return (pods["n"], pods["ids"], pods["changed"], pods["updated"], pods["networking"], approvals["n"], approvals["ids"],
            approvals["pods"], rendering)


_cache: dict = {}
_cache_lock = threading.Lock()


def cached_config() -> tuple[str, bytes]:
    """``(etag, body)`` of the current configuration, rendered only when its version changed."""
    version = config_version()
    entry = _cache.get("entry")
    if entry is not None and entry[0] == version:
        return entry[1], entry[2]
    with _cache_lock:  # one render per change in this process, however many requests wait
        entry = _cache.get("entry")
        if entry is not None and entry[0] == version:
            return entry[1], entry[2]
        body = orjson.dumps(current_config())
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        _cache["entry"] = (version, etag, body)
        return etag, body


def clear_cache() -> None:
    _cache.clear()
