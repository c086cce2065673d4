"""Routes of the pods API, mounted under both ``/v3/`` and ``/`` (no trailing slashes, as upstream)."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from pods.api.jupyter_views import ensure_jupyter_pod, upload_to_jupyter
from pods.api.proxy_auth import PodProxyAuthView
from pods.api.storage_views import SnapshotViewSet, VolumeViewSet
from pods.api.views import PodViewSet

router = SimpleRouter(trailing_slash=False)
# Before "pods": /pods/volumes and /pods/snapshots must never reach get_pod (routes match in order).
router.register("pods/volumes", VolumeViewSet, basename="volume")
router.register("pods/snapshots", SnapshotViewSet, basename="snapshot")
router.register("pods", PodViewSet, basename="pod")

urlpatterns = [
    path("pods/<str:pod_id_net>/auth", PodProxyAuthView.as_view(), name="pod-auth"),
    path("pods/jupyter/ensure", ensure_jupyter_pod, name="jupyter-ensure"),
    path("pods/jupyter/<str:pod_id>/upload", upload_to_jupyter, name="jupyter-upload"),
    *router.urls,
]
