"""Routes of the worker side's views: health and the Traefik configuration (no API prefix of
their own; the project URL map mounts them at the root)."""
from django.urls import path

from workers.metrics_view import metrics
from workers.views import HealthcheckView, traefik_config

urlpatterns = [
    path("healthcheck", HealthcheckView.as_view(), name="healthcheck"),
    path("v3/healthcheck", HealthcheckView.as_view()),
    path("traefik-config", traefik_config, name="traefik-config"),
    path("v3/traefik-config", traefik_config),  # tapipy's traefik_config path
    path("metrics", metrics, name="metrics"),
    path("pods/traefik-config", traefik_config),
    path("v3/pods/traefik-config", traefik_config),
]
