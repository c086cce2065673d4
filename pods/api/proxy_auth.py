"""``GET /v3/pods/{pod_id_net}/auth``: Traefik's forwardAuth endpoint for ``tapis_auth`` entries."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.envelope import Envelope
from pods.models import Pod
from pods.proxy_auth import decide, split_pod_id_net
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
    """200 with the entry's response headers when the caller may pass; 401/403/404 otherwise."""

    authentication_classes = [TapisTokenAuthentication, OIDCBearerAuthentication, TapisCookieAuthentication]

    @extend_schema(
        operation_id="pod_auth",
        parameters=[OpenApiParameter("pod_id_net", str, OpenApiParameter.PATH,
                                     description="pod_id, or pod_id-key for a non-default networking entry")],
        responses=inline_serializer("PodAuthResult", {"pod_id": serializers.CharField(),
                                                      "networking_key": serializers.CharField(),
                                                      "username": serializers.CharField()}),
    )
    def get(self, request, pod_id_net):
        pod_id, key = split_pod_id_net(pod_id_net)
        principal = request.user
        pod = Pod.objects.filter(tenant=principal.tenant, pod_id=pod_id).first()
        if pod is None:
            raise exceptions.NotFound(f"Pod with identifier pod_id: '{pod_id}' not found.")
        decision = decide(pod, key, principal)
        if not decision.allowed:
            if "no networking entry" in decision.reason:
                raise exceptions.NotFound(decision.reason)
            raise exceptions.PermissionDenied(decision.reason)
        result = {"pod_id": pod.pod_id, "networking_key": key, "username": principal.username}
        return Response(Envelope(result, "Access granted."), headers=decision.headers)
