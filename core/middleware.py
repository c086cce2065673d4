"""Small request middleware."""
import re

from django.http import HttpResponseRedirect

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
