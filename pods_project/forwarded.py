"""Which scheme a request came in on, from the proxies we trust only (``PODS_FORWARDED_ALLOW_IPS``).

A proxy that terminates TLS tells the server the original scheme in a header. Believed from
anyone, any client could claim HTTPS (secure cookies, HSTS and the SSL redirect would trust it),
so :func:`trust_forwarded_scheme` wraps the WSGI application and sets ``wsgi.url_scheme`` from
those headers only when the connection comes from one of the configured proxies (IPs or CIDR
networks, never ``*``: the settings refuse it). The headers and their "secure" values are
gunicorn's ``secure_scheme_headers``, which this replaces since the server is granian
(:mod:`pods_project.serve`). Headers that contradict each other upgrade nothing.
"""
import ipaddress
from functools import lru_cache

# WSGI environ key -> the value that means the client used HTTPS (any other value means HTTP).
SECURE_SCHEME_HEADERS = {
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_PROTOCOL": "ssl",
    "HTTP_X_FORWARDED_SSL": "on",
}


def trust_forwarded_scheme(app, allowed):
    """``app`` with ``wsgi.url_scheme`` taken from a trusted proxy's headers (see the module)."""
    networks = tuple(ipaddress.ip_network(a, strict=False) for a in allowed)

    @lru_cache(maxsize=1024)
    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of it
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:10.0.0.1 from a dual-stack socket
            ip = ip.ipv4_mapped
        return any(ip in network for network in networks)

    def application(environ, start_response):
        votes = {environ[key].strip().lower() == secure
                 for key, secure in SECURE_SCHEME_HEADERS.items() if key in environ}
        if len(votes) == 1 and trusted(environ.get("REMOTE_ADDR", "")):
            environ["wsgi.url_scheme"] = "https" if votes.pop() else "http"
        return app(environ, start_response)

    return application
