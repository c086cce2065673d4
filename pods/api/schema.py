"""OpenAPI descriptions of the API's authentication schemes (drf-spectacular extensions).

They live here because the pods endpoints are the first to require authentication; importing
this module (the viewsets do) registers them.
"""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TapisTokenScheme(OpenApiAuthenticationExtension):
    target_class = "pods.identity.tapis.TapisTokenAuthentication"
    name = "TapisToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Tapis-Token",
                "description": "A Tapis JWT (RS256) issued for the tenant."}


class OIDCBearerScheme(OpenApiAuthenticationExtension):
    target_class = "pods.identity.oidc.OIDCBearerAuthentication"
    name = "OIDCBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An access token from the tenant's OIDC issuer."}


class TapisCookieScheme(OpenApiAuthenticationExtension):
    target_class = "pods.api.proxy_auth.TapisCookieAuthentication"
    name = "TapisCookie"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "X-Tapis-Token",
                "description": "A Tapis JWT held by the browser for a pod's domain (pod_auth only)."}
