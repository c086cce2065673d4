"""Routes of the pods API, mounted under both ``/v3/`` and ``/`` (no trailing slashes, as upstream)."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from pods.api.jupyter_views import ensure_jupyter_pod, upload_to_jupyter
from pods.api.browser_auth import error_handler, pod_auth_callback, pod_auth_logout, pod_splash
from pods.api.proxy_auth import PodProxyAuthView
from pods.api.secrets_views import SecretViewSet
from pods.api.storage_views import SnapshotViewSet, VolumeViewSet
from pods.api.views import PodViewSet

router = SimpleRouter(trailing_slash=False)
# Before "pods": /pods/volumes and /pods/snapshots must never reach get_pod (routes match in order).
router.register("pods/volumes", VolumeViewSet, basename="volume")
router.register("pods/snapshots", SnapshotViewSet, basename="snapshot")
router.register("pods", PodViewSet, basename="pod")

_secret_list = SecretViewSet.as_view({"get": "list", "post": "create"})
_secret = SecretViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})
_secret_value = SecretViewSet.as_view({"get": "value"})
_secret_permissions = SecretViewSet.as_view({"get": "permissions", "post": "set_permission"})
_secret_permission = SecretViewSet.as_view({"delete": "delete_permission"})

urlpatterns = [
    # Before the router's pods routes (/pods/secrets must never reach get_pod).
    path("pods/secrets", _secret_list, name="secret-list"),
    path("pods/secrets/<str:secret_id>", _secret, name="secret-detail"),
    path("pods/secrets/<str:secret_id>/value", _secret_value, name="secret-value"),
    path("pods/secrets/<str:secret_id>/permissions", _secret_permissions, name="secret-permissions"),
    path("pods/secrets/<str:secret_id>/permissions/<str:user>", _secret_permission, name="secret-permission"),
    path("pods/<str:pod_id_net>/auth", PodProxyAuthView.as_view(), name="pod-auth"),
    path("pods/<str:pod_id_net>/auth/callback", pod_auth_callback, name="pod-auth-callback"),
    path("pods/<str:pod_id_net>/auth/logout", pod_auth_logout, name="pod-auth-logout"),
    path("error-handler/<int:status>", error_handler, name="error-handler"),
    path("pod-splash", pod_splash, name="pod-splash"),
    path("pods/jupyter/ensure", ensure_jupyter_pod, name="jupyter-ensure"),
    path("pods/jupyter/<str:pod_id>/upload", upload_to_jupyter, name="jupyter-upload"),
    *router.urls,
]
