"""``GET /v3/pods/{pod_id_net}/auth``: Traefik's forwardAuth endpoint for ``tapis_auth`` entries."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.envelope import Envelope
from pods.proxy_auth import decide, locate
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


class PodProxyAuthView(APIView):
    """200 with the entry's response headers when the caller may pass; 401/403/404 otherwise.

    The pod is the one of tenant ``?tenant=`` (or of the forwarded host's tenant), never simply
    "the caller's pod with that id": see :mod:`pods.proxy_auth`.
    """

    authentication_classes = [TapisTokenAuthentication, OIDCBearerAuthentication, TapisCookieAuthentication]

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
        pod, key = locate(principal=principal, pod_id_net=pod_id_net,
                          tenant_id=request.query_params.get("tenant") or None,
                          forwarded_host=request.META.get("HTTP_X_FORWARDED_HOST"))
        decision = decide(pod, key, principal)
        if not decision.allowed:
            if "no networking entry" in decision.reason:
                raise exceptions.NotFound(decision.reason)
            raise exceptions.PermissionDenied(decision.reason)
        result = {"pod_id": pod.pod_id, "networking_key": key, "username": principal.username}
        return Response(Envelope(result, "Access granted."), headers=decision.headers)
