"""Views every app's API shares: the catch-all 404 under the API prefixes, and Django's error
handlers (the envelope for API paths, Django's pages elsewhere)."""
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.views import APIView

from .envelope import DATABASE_UNAVAILABLE_MESSAGE, RETRY_AFTER_SECONDS, json_error_response

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
    """Django's 500 handler for errors raised outside DRF views (middleware, non-API views).

    Called while the exception is being handled, so it can tell a database outage (503, as in
    the API) from a bug (500).
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        if request.path.startswith(API_PREFIXES):
            response = json_error_response(503, DATABASE_UNAVAILABLE_MESSAGE, {"dependency": "database"})
        else:
            response = HttpResponse(DATABASE_UNAVAILABLE_MESSAGE, status=503, content_type="text/plain")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if request.path.startswith(API_PREFIXES):
        return json_error_response(500, "The server hit an unexpected error; it has been logged.")
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)
