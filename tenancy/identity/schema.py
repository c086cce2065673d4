"""OpenAPI descriptions of the API's authentication schemes (drf-spectacular extensions).

Importing this module registers them; :class:`tenancy.apps.TenancyConfig` does it at start-up.
"""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TapisTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tenancy.identity.tapis.TapisTokenAuthentication"
    name = "TapisToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Tapis-Token",
                "description": "A Tapis JWT (RS256) issued for the tenant."}


class OIDCBearerScheme(OpenApiAuthenticationExtension):
    target_class = "tenancy.identity.oidc.OIDCBearerAuthentication"
    name = "OIDCBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An access token from the tenant's OIDC issuer."}
