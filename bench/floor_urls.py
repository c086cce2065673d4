"""The service's URLs plus two floor endpoints, for ``api_bench.py`` only (see floor_settings.py).

- ``/bench/floor``: the smallest authenticated DRF view, returning a constant: the request
  pipeline (middleware, DRF dispatch, ``X-Tapis-Token`` verification against the cached tenant
  keys, the envelope renderer) with no work of its own.
- ``/bench/floor-open``: the same without authentication.
"""
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from pods_project.urls import handler404, handler500, urlpatterns as service_urlpatterns  # noqa: F401


class AuthenticatedFloor(APIView):
    """The default authentication and permission classes (IsAuthenticated), a constant result."""

    schema = None

    def get(self, request):
        return Response("floor")


class OpenFloor(AuthenticatedFloor):
    authentication_classes = []
    permission_classes = [AllowAny]


urlpatterns = [
    path("bench/floor", AuthenticatedFloor.as_view()),
    path("bench/floor-open", OpenFloor.as_view()),
    *service_urlpatterns,
]
