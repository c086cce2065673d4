"""Small HTML pages a browser sees at a pod's address instead of a bare proxy error: the pod is
starting, stopped, not found, or the user may not enter; and the signed-out page."""
from django.http import HttpResponse
from django.utils.html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>{refresh}
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}p.detail{{color:#555}}</style></head>
<body><h1>{title}</h1><p>{text}</p>{detail}</body></html>
"""

PAGES = {
    "starting": (503, "This pod is starting", "It will answer here as soon as it is ready; this page reloads "
                                              "by itself."),
    "stopped": (503, "This pod is not running", "Its owner can start it again (start_pod)."),
    "not_found": (404, "No pod here", "No pod answers at this address. Check the address, or ask the pod's "
                                      "owner for it."),
    "forbidden": (403, "You may not open this pod", "You are signed in, but this pod's owner has not given you "
                                                    "access to it."),
    "signed_out": (200, "Signed out", "You are signed out of this pod."),
    "login_failed": (403, "The sign-in did not complete", "Open the pod's address again to sign in."),
    "unavailable": (503, "The pods service cannot reach the sign-in provider", "Try again in a moment."),
}


def page(kind: str, detail: str = "", status: int | None = None) -> HttpResponse:
    code, title, text = PAGES[kind]
    refresh = '<meta http-equiv="refresh" content="10">' if kind == "starting" else ""
    body = _PAGE.format(title=escape(title), text=escape(text), refresh=refresh,
                        detail=f'<p class="detail">{escape(detail)}</p>' if detail else "")
    response = HttpResponse(body, status=status or code, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def wants_html(request) -> bool:
    return "text/html" in request.META.get("HTTP_ACCEPT", "")
