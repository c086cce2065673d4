"""Routes of the templates and images API, mounted under both ``/v3/`` and ``/`` (no trailing
slashes). Included before the pods routes: ``/pods/templates...`` and ``/pods/images...`` must
win over ``/pods/{pod_id}``."""
from rest_framework.routers import SimpleRouter

from templates_catalog.api.images import ImageViewSet
from templates_catalog.api.templates import TemplateViewSet

router = SimpleRouter(trailing_slash=False)
router.register("pods/templates", TemplateViewSet, basename="template")
router.register("pods/images", ImageViewSet, basename="image")

urlpatterns = router.urls
