"""Routes of the pods API, mounted under both ``/v3/`` and ``/`` (no trailing slashes, as upstream)."""
from rest_framework.routers import SimpleRouter

from pods.api.views import PodViewSet

router = SimpleRouter(trailing_slash=False)
router.register("pods", PodViewSet, basename="pod")

urlpatterns = router.urls
