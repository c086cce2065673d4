"""A pod's networking entries: protocols, defaults, generated URLs and cross-field rules."""
from core.errors import InvalidInput

NETWORK_PROTOCOLS = ("http", "tcp", "postgres", "local_only")

NETWORKING_DEFAULTS = {
    "protocol": "http",
    "port": 5000,
    "url": "",
    "ip_allow_list": [],
    "tapis_auth": False,
    "tapis_auth_response_headers": {},
    # Upstream's newest default: only users with a permission on the pod pass Tapis auth.
    "tapis_auth_allowed_users": ["AUTHORIZED_USERS"],
    "tapis_auth_return_path": "/",
    "cors_allow_origins": [],
    "cors_allow_methods": [],
    "cors_allow_headers": [],
    "cors_allow_credentials": False,
    "cors_max_age": 100,
    "tapis_ui_uri": "",
    "tapis_ui_uri_redirect": False,
    "tapis_ui_uri_description": "",
}


def default_networking() -> dict:
    """A new pod's networking: one HTTP entry on port 5000 (upstream's custom-image contract)."""
    return {"default": {"protocol": "http", "port": 5000}}


def pod_url(pod_id: str, key: str, pod_domain: str) -> str:
    """``{pod_id}.pods.{domain}`` for the ``default`` entry, ``{pod_id}-{key}.pods.{domain}`` else."""
    host = pod_id if key == "default" else f"{pod_id}-{key}"
    return f"{host}.pods.{pod_domain}"


def normalise_networking(given: dict, *, pod_id: str, pod_domain: str) -> dict:
    """Every entry completed with defaults and its generated ``url``."""
    result = {}
    for key, entry in given.items():
        full = {**NETWORKING_DEFAULTS, **entry}
        full["url"] = pod_url(pod_id, key, pod_domain)
        errors = {}
        if full["protocol"] != "http":
            for name in ("tapis_auth", "cors_allow_origins", "cors_allow_methods", "cors_allow_headers",
                         "cors_allow_credentials", "tapis_ui_uri_redirect"):
                if full[name] and full[name] != NETWORKING_DEFAULTS[name]:
                    errors[name] = [f"Only allowed with protocol 'http' (this entry is '{full['protocol']}')."]
        if errors:
            raise InvalidInput({"networking": {key: errors}})
        result[key] = full
    return result
