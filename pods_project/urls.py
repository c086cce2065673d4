"""URL map. The API is served under ``/v3/pods/...`` (canonical) and ``/pods/...`` (alias)."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView

from .views import ApiNotFoundView, HealthcheckView, traefik_config

api_patterns = [
    path("", include("templates_catalog.urls")),  # before pods: /pods/templates, /pods/images
    path("", include("pods.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthcheck", HealthcheckView.as_view(), name="healthcheck"),
    path("v3/healthcheck", HealthcheckView.as_view()),
    path("traefik-config", traefik_config, name="traefik-config"),
    path("pods/traefik-config", traefik_config),
    path("v3/pods/traefik-config", traefik_config),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi"), name="redoc"),
    path("v3/", include(api_patterns)),
    path("", include(api_patterns)),
    # Anything else under the API prefixes is a 404 in the envelope, whatever the method.
    re_path(r"^(?:v3/)?pods(?:/.*)?$", ApiNotFoundView.as_view()),
    re_path(r"^v3(?:/.*)?$", ApiNotFoundView.as_view()),
]

if settings.OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))

handler404 = "pods_project.views.not_found"
handler500 = "pods_project.views.server_error"
