"""Every operation of tapipy's pods schema reaches a view of ours under /v3 (tapipy's base path),
with the method it uses (``/v3/traefik-config`` included)."""
import pathlib
import re

import tapipy
import yaml
from django.urls import resolve

# The tapis_auth browser flow (issue #14, the other half: branch parity2) brings these two.
PENDING = {("get", "/error-handler/{status}"), ("get", "/pods/{pod_id_net}/auth/callback")}


def operations():
    spec = yaml.safe_load((pathlib.Path(tapipy.__file__).parent / "resources/openapi_v3-pods.yml").read_text())
    for path, ops in spec["paths"].items():
        for method in ops:
            if method in ("get", "post", "put", "delete", "patch"):
                yield method, path


def test_every_tapipy_operation_resolves_to_one_of_our_views():
    unresolved = []
    for method, path in operations():
        match = resolve("/v3" + re.sub(r"\{[^}]+\}", "xyz1", path))
        actions = getattr(match.func, "actions", None)
        if match.func.__module__.startswith("core.") or (actions is not None and method not in actions):
            unresolved.append((method, path))
    assert len(list(operations())) == 62
    assert set(unresolved) <= PENDING, sorted(set(unresolved) - PENDING)


def test_traefik_config_at_tapipys_path(db, client):
    assert client.get("/v3/traefik-config").status_code == client.get("/traefik-config").status_code == 200
