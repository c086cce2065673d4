"""The environment the manifests give each process loads the settings (DJANGO_DEBUG off, so every
secret is demanded), and the web then answers its probes and the proxy as deployed.

Each container's environment is rebuilt from the rendering: ConfigMap pods-config, its own ``env``,
and every ``*_FILE`` variable pointing at a file holding the Secret's value (the local overlay's
values; for production, stand-ins). Only the Postgres and Redis addresses are this machine's.
"""
import base64
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, database_url_for_tests
from tests.deploy.manifests import OVERLAYS, config_data, named, of_kind, render

pytestmark = pytest.mark.django_db

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
result = {"debug": settings.DEBUG, "namespace": settings.PODS_KUBE_NAMESPACE, "hosts": settings.ALLOWED_HOSTS,
          "queue": settings.CELERY_TASK_DEFAULT_QUEUE, "kubeconfig": settings.PODS_KUBECONFIG}
if settings.PODS_TRAEFIK_CONFIG_TOKEN:
    client = Client()
    result["health"] = client.get("/healthcheck", HTTP_HOST="pods-web").status_code
    result["proxy_without_secret"] = client.get("/traefik-config", HTTP_HOST="pods-web").status_code
    result["proxy_with_secret"] = client.get("/traefik-config", HTTP_HOST="pods-web.pods-system.svc",
        HTTP_X_PODS_TRAEFIK_CONFIG_TOKEN=settings.PODS_TRAEFIK_CONFIG_TOKEN).status_code
    result["unknown_host"] = client.get("/healthcheck", HTTP_HOST="evil.example").status_code
print("RESULT " + json.dumps(result))
"""


def secret_values(overlay):
    secrets = [s for s in of_kind(render(f"overlays/{overlay}"), "Secret") if s["metadata"]["name"] == "pods-secrets"]
    if secrets:
        return {k: base64.b64decode(v).decode() for k, v in secrets[0]["data"].items()}
    # Production's Secret is the operator's: what docs/deploy.md has them create.
    return {"DJANGO_SECRET_KEY": "operator-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "PODS_ENCRYPTION_KEYS": "first-passphrase-of-32-characters-0,older-passphrase-of-32-characters-1",
            "DATABASE_URL": "postgres://pods:pw@db.example.org:5432/pods", "REDIS_URL": "redis://redis.example.org:6379/0",
            "PODS_TRAEFIK_CONFIG_TOKEN": "shared"}


def container_environment(overlay, deployment, tmp_path):
    objects = render(f"overlays/{overlay}")
    container = named(objects, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]
    values = secret_values(overlay) | {"DATABASE_URL": database_url_for_tests(),
                                       "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "pods_project.settings"}
    env.update(config_data(objects))
    for variable in container.get("env", []):
        if variable["name"].endswith("_FILE"):
            key = variable["name"].removesuffix("_FILE")
            if key in values:
                path = tmp_path / key
                path.write_text(values[key])
                env[variable["name"]] = str(path)
        else:
            env[variable["name"]] = variable["value"]
    return env


def load_settings(env):
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [x for x in result.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line.removeprefix("RESULT "))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_web_starts_from_its_manifest_and_answers_probes_and_the_proxy(overlay, tmp_path):
    result = load_settings(container_environment(overlay, "pods-web", tmp_path))
    assert result["debug"] is False
    assert result["health"] == 200, "the startup and readiness probes would fail"
    assert result["proxy_without_secret"] == 403 and result["proxy_with_secret"] == 200
    assert result["unknown_host"] == 400
    assert result["kubeconfig"] == "", "the web has no cluster configuration"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("deployment", ["pods-worker", "pods-beat", "pods-watcher"])
def test_the_other_processes_load_their_settings_from_their_manifests(overlay, deployment, tmp_path):
    result = load_settings(container_environment(overlay, deployment, tmp_path))
    config = config_data(render(f"overlays/{overlay}"))
    assert result["debug"] is False
    assert result["namespace"] == config["PODS_KUBE_NAMESPACE"]
    assert result["queue"] == config["CELERY_TASK_DEFAULT_QUEUE"]
    # No kubeconfig: the worker and the watcher use their ServiceAccount (tests/deploy/test_in_cluster.py).
    assert result["kubeconfig"] == ""


def test_a_missing_secret_stops_the_process_at_start(tmp_path):
    env = container_environment("production", "pods-worker", tmp_path)
    (tmp_path / "PODS_ENCRYPTION_KEYS").write_text("")
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0 and "PODS_ENCRYPTION_KEYS must be set" in result.stderr
