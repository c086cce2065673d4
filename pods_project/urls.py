"""URL map. The API is served under ``/v3/pods/...`` (canonical) and ``/pods/...`` (alias)."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

api_patterns = [
    path("", include("templates_catalog.urls")),  # before pods: /pods/templates, /pods/images
    path("", include("pods.urls")),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="core/landing.html"), name="home"),
    # APPEND_SLASH is off (the API has no trailing slashes), so the admin's bare path redirects.
    path("admin", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("workers.urls")),  # /healthcheck, /traefik-config (before the pods routes)
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi"), name="redoc"),
    path("v3/", include(api_patterns)),
    path("", include(api_patterns)),
    # Anything else under the API prefixes is a 404 in the envelope, whatever the method.
    path("", include("core.urls")),
]

if settings.OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
