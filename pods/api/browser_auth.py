"""Browser access to ``tapis_auth`` pods (see :mod:`pods.browser_auth`): the login callback,
logout, and the pages Traefik shows for a pod that is not there (``error_handler``,
``pod_splash``)."""
from django.http import HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods

from core.envelope import envelope_dict
from core.errors import DomainError, NotFound, Unavailable
from pods import browser_auth
from pods.choices import PodStatus
from pods.proxy_auth import _host, decide
from tenancy.identity import Principal

from .pages import page, wants_html

STARTING = (PodStatus.REQUESTED, PodStatus.SPAWNER_SETUP, PodStatus.CREATING)


def request_host(request) -> str:
    """The host the browser asked for (Traefik forwards it), without validating it as ours."""
    forwarded = request.META.get("HTTP_X_FORWARDED_HOST", "")
    raw = forwarded.split(",")[0] if forwarded else request.META.get("HTTP_HOST", "")
    return _host(raw)


def cookie_options(path: str = "/") -> dict:
    """Host-only (no Domain: the pod's host alone), Secure, HttpOnly, SameSite=Lax (the login comes
    back from the provider as a top-level navigation)."""
    return {"path": path, "secure": True, "httponly": True, "samesite": "Lax"}


def login_path(pod_id_net: str) -> str:
    return f"/v3/pods/{pod_id_net}/auth/"


def _pod_at(request, pod_id_net):
    host = request_host(request)
    pod, key = browser_auth.pod_for_host(host)
    if browser_auth.pod_id_net(pod, key) != pod_id_net:
        raise NotFound(f"No pod '{pod_id_net}' answers at {host}.")
    return pod, key, host


@require_GET
def pod_auth_callback(request, pod_id_net):
    """``pod_auth_callback``: the provider's redirect back to the pod host, after the login."""
    try:
        pod, key, host = _pod_at(request, pod_id_net)
    except NotFound as exc:
        return page("not_found", exc.message)
    if request.GET.get("error"):
        return page("login_failed", f"The provider answered: {request.GET.get('error')}.")
    try:
        login = browser_auth.finish_login(pod, key, code=request.GET.get("code", ""), state=request.GET.get("state", ""),
                                          login_cookie=request.COOKIES.get(browser_auth.LOGIN_COOKIE))
    except Unavailable as exc:
        return page("unavailable", exc.message)
    except DomainError as exc:
        return page("login_failed", exc.message)
    principal = Principal(tenant=pod.tenant, username=login.username, auth_method="pod-login")
    decision = decide(pod, key, principal)
    if not decision.allowed:
        response = page("forbidden", decision.reason)
    else:
        entry = (pod.networking or {}).get(key) or {}
        path = browser_auth.safe_return_path(login.return_path, entry.get("tapis_auth_return_path") or "/")
        response = HttpResponseRedirect(f"https://{host}{path}")
        response.set_cookie(browser_auth.SESSION_COOKIE, login.session_cookie, max_age=login.max_age,
                            **cookie_options())
    response.delete_cookie(browser_auth.LOGIN_COOKIE, path=login_path(pod_id_net), samesite="Lax")
    return response


@require_http_methods(["GET", "POST"])
def pod_auth_logout(request, pod_id_net):
    """Forget the browser's session for this pod (the cookie is deleted)."""
    response = page("signed_out")
    response.delete_cookie(browser_auth.SESSION_COOKIE, path="/", samesite="Lax")
    return response


ERROR_MESSAGES = {
    404: "Invalid request: the requested URL is not a Pods endpoint.",
    502: "Timeout error waiting on the Pods service's response.",
}
SERVER_TROUBLE = "Unable to parse the Pods service's response. The server may be misconfigured or overloaded."


def _page_for_host(host: str):
    try:
        pod, key = browser_auth.pod_for_host(host)
    except NotFound:
        return page("not_found", f"Nothing is served at {host}." if host else "")
    if pod.status in STARTING or (pod.status == PodStatus.AVAILABLE):
        return page("starting", (pod.status_container or {}).get("message", ""))
    return page("stopped", (pod.status_container or {}).get("message", "") if pod.status == PodStatus.ERROR else "")


@require_GET
def error_handler(request, status):
    """``error_handler``: what Traefik's errors middleware shows for a pod's failed request. A
    browser gets a page about the pod at the requested host (starting, stopped, not found,
    forbidden); anything else upstream's envelope, with HTTP status ``status``."""
    status = int(status)
    if not 400 <= status <= 599:
        status = 400
    if wants_html(request):
        if status == 403:
            return page("forbidden")
        return _page_for_host(request_host(request))
    message = ERROR_MESSAGES.get(status) or (SERVER_TROUBLE if status in (500, 501, 503, 504) else
                                             "Invalid request: the Pods service does not know how to fulfil the request.")
    return JsonResponse(envelope_dict(None, status_word="error", message=message), status=status,
                        content_type="application/json")


@require_GET
def pod_splash(request):
    """Where ``/traefik-config`` sends every pod host that has no running pod behind it."""
    return _page_for_host(request_host(request))

