"""Views every app's API shares: the catch-all 404 under the API prefixes, and Django's error
handlers (the envelope for API paths, Django's pages elsewhere)."""
from rest_framework import exceptions
from rest_framework.views import APIView

from .envelope import json_error_response

API_PREFIXES = ("/v3/", "/pods", "/healthcheck")


class ApiNotFoundView(APIView):
    """Every path under the API prefixes that no route matched: 404 in the envelope."""

    authentication_classes = []
    permission_classes = []
    schema = None

    def initial(self, request, *args, **kwargs):
        raise exceptions.NotFound(f"No API endpoint at '{request.path}' ({request.method}).")


def not_found(request, exception=None):
    """Django's 404 handler: the envelope for API paths, plain text elsewhere."""
    if request.path.startswith(API_PREFIXES):
        return json_error_response(404, f"No API endpoint at '{request.path}' ({request.method}).")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    """Django's 500 handler for errors raised outside DRF views (middleware, non-API views)."""
    if request.path.startswith(API_PREFIXES):
        return json_error_response(500, "The server hit an unexpected error; it has been logged.")
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)
