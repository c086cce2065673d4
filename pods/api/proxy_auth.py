"""``GET /v3/pods/{pod_id_net}/auth``: Traefik's forwardAuth endpoint for ``tapis_auth`` entries."""
from django.http import HttpResponseRedirect
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from core.envelope import Envelope
from core.errors import Unavailable
from pods import browser_auth
from pods.proxy_auth import _host, decide, locate, locate_for_browser
from tenancy.identity import Principal

from .browser_auth import cookie_options, login_path
from .pages import page, wants_html
from tenancy.identity.oidc import OIDCBearerAuthentication
from tenancy.identity.tapis import TapisTokenAuthentication


class TapisCookieAuthentication(TapisTokenAuthentication):
    """The ``X-Tapis-Token`` cookie a browser holds for the pod's domain (GET only: no side effects)."""

    def authenticate(self, request):
        token = request.COOKIES.get("X-Tapis-Token")
        if token is None or "HTTP_X_TAPIS_TOKEN" in request.META or request.method != "GET":
            return None
        request.META["HTTP_X_TAPIS_TOKEN"] = token
        return super().authenticate(request)


class TapisCookieScheme(OpenApiAuthenticationExtension):
    target_class = "pods.api.proxy_auth.TapisCookieAuthentication"
    name = "TapisCookie"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "X-Tapis-Token",
                "description": "A Tapis JWT held by the browser for a pod's domain (pod_auth only)."}


class AnswerInJSON(BaseContentNegotiation):
    """A browser's ``Accept: text/html`` reaches forwardAuth too: answer JSON (or a page) anyway."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class PodProxyAuthView(APIView):
    """200 with the entry's response headers when the caller may pass; 401/403/404 otherwise.

    The pod is the one of tenant ``?tenant=`` (or of the forwarded host's tenant), never simply
    "the caller's pod with that id": see :mod:`pods.proxy_auth`.
    """

    authentication_classes = [TapisTokenAuthentication, OIDCBearerAuthentication, TapisCookieAuthentication]
    content_negotiation_class = AnswerInJSON
    permission_classes = []  # a browser without credentials is sent to its login (pods.browser_auth)

    @extend_schema(
        operation_id="pod_auth",
        parameters=[OpenApiParameter("pod_id_net", str, OpenApiParameter.PATH,
                                     description="pod_id, or pod_id-key for a non-default networking entry"),
                    OpenApiParameter("tenant", str, OpenApiParameter.QUERY, required=False,
                                     description="The pod's tenant (written by /traefik-config). Without it, "
                                                 "the tenant of X-Forwarded-Host, else the caller's.")],
        responses=inline_serializer("PodAuthResult", {"pod_id": serializers.CharField(),
                                                      "networking_key": serializers.CharField(),
                                                      "username": serializers.CharField()}),
    )
    def get(self, request, pod_id_net):
        principal = request.user
        if principal is None:
            return browser_request(request, pod_id_net)
        pod, key = locate(principal=principal, pod_id_net=pod_id_net,
                          tenant_id=request.query_params.get("tenant") or None,
                          forwarded_host=request.META.get("HTTP_X_FORWARDED_HOST"))
        decision = decide(pod, key, principal)
        if not decision.allowed:
            if "no networking entry" in decision.reason:
                raise exceptions.NotFound(decision.reason)
            if wants_html(request):
                return page("forbidden", decision.reason)
            raise exceptions.PermissionDenied(decision.reason)
        result = {"pod_id": pod.pod_id, "networking_key": key, "username": principal.username}
        return Response(Envelope(result, "Access granted."), headers=decision.headers)


# --- Browsers (parity2): a session cookie, else the login redirect ----------------------------

def browser_request(request, pod_id_net):
    """forwardAuth for a request without a token: the pod host's session cookie lets it through;
    a browser without one is sent to the tenant's OIDC login (302); any other caller gets 401."""
    forwarded = request.META.get("HTTP_X_FORWARDED_HOST")
    pod, key = locate_for_browser(pod_id_net=pod_id_net, tenant_id=request.query_params.get("tenant") or None,
                                  forwarded_host=forwarded)
    if pod is None:
        raise exceptions.NotAuthenticated()
    entry = (pod.networking or {}).get(key) or {}
    if not entry.get("tapis_auth"):
        raise exceptions.NotFound(f"Pod '{pod.pod_id}' has no networking entry '{key}' protected by tapis_auth.")
    host = _host(forwarded) if forwarded else None
    username = browser_auth.session_user(pod, key, request.COOKIES.get(browser_auth.SESSION_COOKIE), host)
    if username:
        principal = Principal(tenant=pod.tenant, username=username, auth_method="pod-session")
        decision = decide(pod, key, principal)
        if decision.allowed:
            result = {"pod_id": pod.pod_id, "networking_key": key, "username": username}
            return Response(Envelope(result, "Access granted."), headers=decision.headers)
        if wants_html(request):
            return page("forbidden", decision.reason)
        raise exceptions.PermissionDenied(decision.reason)
    method = request.META.get("HTTP_X_FORWARDED_METHOD", request.method)
    if not wants_html(request) or method not in ("GET", "HEAD") or not pod.tenant.oidc_issuer:
        raise exceptions.NotAuthenticated()
    return_path = browser_auth.safe_return_path(request.META.get("HTTP_X_FORWARDED_URI"),
                                                entry.get("tapis_auth_return_path") or "/")
    try:
        location, cookie = browser_auth.login_redirect(pod, key, return_path)
    except Unavailable as exc:
        return page("unavailable", exc.message)
    response = HttpResponseRedirect(location)
    response.set_cookie(browser_auth.LOGIN_COOKIE, cookie, max_age=browser_auth.LOGIN_SECONDS,
                        **cookie_options(login_path(browser_auth.pod_id_net(pod, key))))
    response["Cache-Control"] = "no-store"
    return response
