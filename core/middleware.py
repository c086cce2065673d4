"""Small request middleware."""
import re
from urllib.parse import unquote_plus

from django.http import HttpResponseRedirect

from .envelope import json_error_response

_SLASHES = re.compile(r"/{2,}")


class HttpResponseTemporaryRedirect(HttpResponseRedirect):
    status_code = 307


class CollapseSlashesMiddleware:
    """Redirect paths containing ``//`` to the collapsed path with 307, as upstream does.

    307 (not 301) keeps the method and body, so a POST to ``/v3//pods`` is replayed intact.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "//" in request.path:
            target = _SLASHES.sub("/", request.path)
            query = request.META.get("QUERY_STRING")
            return HttpResponseTemporaryRedirect(f"{target}?{query}" if query else target)
        return self.get_response(request)


class RejectNulMiddleware:
    """400 in the envelope for a NUL character anywhere in the path or the query string.

    No id of this API may hold one, and Postgres cannot store or even compare text with one: a
    ``/v3/pods/ab%00c`` reached the database and came back as a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
            where = "path" if "\x00" in request.path else "query string"
            return json_error_response(400, f"Null characters are not allowed in the request's {where}.",
                                       {"errors": {where: ["Null characters are not allowed."]}})
        return self.get_response(request)
