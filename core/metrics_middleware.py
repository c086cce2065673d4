"""Request latency by endpoint (``pods_http_request_seconds``), labelled with the URL route that
matched (``v3/pods/<str:pod_id>``), never the raw path, so the label set stays bounded."""
import time

from core.metrics import HTTP_SECONDS


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name or "").replace("^", "").replace("$", "") if match else ""
        HTTP_SECONDS.labels(request.method if request.method in _METHODS else "OTHER", route or "unmatched",
                            str(response.status_code)).observe(time.perf_counter() - started)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
