"""A URL map with an authenticated view that echoes the principal, for the identity tests."""
from django.urls import path
from rest_framework.views import APIView

from pods_project.urls import urlpatterns as project_urlpatterns


class WhoAmIView(APIView):
    def get(self, request):
        p = request.user
        return {"tenant": p.tenant_id, "username": p.username, "is_tenant_admin": p.is_tenant_admin,
                "admin_mode": p.admin_mode, "auth_method": p.auth_method}

    def finalize_response(self, request, response, *args, **kwargs):
        from rest_framework.response import Response

        if isinstance(response, dict):
            response = Response(response)
        return super().finalize_response(request, response, *args, **kwargs)


urlpatterns = [path("v3/pods/whoami", WhoAmIView.as_view()), *project_urlpatterns]
handler404 = "core.views.not_found"
