"""A URL map with a view that fails on purpose, for the 500-envelope tests."""
from django.urls import path
from rest_framework.views import APIView

from pods_project.urls import urlpatterns as project_urlpatterns


class ExplodingView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise RuntimeError("secret internal detail /etc/passwd")


urlpatterns = [path("v3/pods/explode", ExplodingView.as_view()), *project_urlpatterns]
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
