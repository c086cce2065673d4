"""Safe defaults: production settings pass Django's deployment checks, weak secrets stop start-up,
the web believes forwarded headers only from the configured proxies (pods_project.forwarded), and the development image
allow-list names the simulator's images exactly."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from pods_project.forwarded import trust_forwarded_scheme
from tests.conftest import child_env
from tests.foundation.settings_probe import load_settings
from tests.web_server import web_server

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "prod-Secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"
PRODUCTION = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_ALLOWED_HOSTS": "pods.example.org",
              "PODS_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


def run(args, env):
    with tempfile.TemporaryDirectory() as home:
        child = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                 "DJANGO_SETTINGS_MODULE": "pods_project.settings", **env}
        return subprocess.run(args, cwd=ROOT, env=child, capture_output=True, text=True, timeout=180)


def test_check_deploy_passes_with_production_settings():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_defaults_are_the_secure_ones():
    loaded = load_settings(PRODUCTION)
    assert loaded.returncode == 0, loaded.stderr
    s = loaded.settings
    assert s["SECURE_SSL_REDIRECT"] is True and s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert s["PODS_IMAGE_ALLOWLIST"] == []


def test_behind_a_proxy_the_ssl_header_is_configurable():
    loaded = load_settings({**PRODUCTION, "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"})
    assert loaded.settings["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert load_settings({**PRODUCTION, "DJANGO_SECURE_PROXY_SSL_HEADER": "bad header"}).returncode != 0


@pytest.mark.parametrize("key", ["change-me-in-production", "x" * 60, "django-insecure-" + "a1b2c3d4e5" * 5,
                                 "dev-only-insecure-secret-key-change-me"])
def test_a_weak_secret_key_stops_production_start_up(key):
    loaded = load_settings({**PRODUCTION, "DJANGO_SECRET_KEY": key})
    assert loaded.returncode != 0
    assert "DJANGO_SECRET_KEY" in loaded.error and "(value hidden)" in loaded.error and key not in loaded.stderr


@pytest.mark.parametrize("passphrase", ["password", "correcthorsebatterystaplecorrecthorse", "short-but-not-one-word"])
def test_a_one_word_or_short_encryption_passphrase_stops_production_start_up(passphrase):
    loaded = load_settings({**PRODUCTION, "PODS_ENCRYPTION_KEYS": passphrase})
    assert loaded.returncode != 0
    assert "PODS_ENCRYPTION_KEYS" in loaded.error and passphrase not in loaded.stderr


def test_a_long_varied_passphrase_or_fernet_key_is_accepted():
    for keys in ("my long passphrase with 7 words and digits 42", Fernet.generate_key().decode()):
        assert load_settings({**PRODUCTION, "PODS_ENCRYPTION_KEYS": keys}).returncode == 0


def test_development_needs_none_of_it():
    loaded = load_settings({"DJANGO_SECRET_KEY": "short", "PODS_ENCRYPTION_KEYS": "dev"})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.settings["SECURE_SSL_REDIRECT"] is False


def _scheme_seen(environ: dict, allowed=("127.0.0.1", "::1", "10.0.0.0/8")) -> str:
    seen = {}

    def app(env, start_response):
        seen["scheme"] = env["wsgi.url_scheme"]
        return []

    trust_forwarded_scheme(app, allowed)({"wsgi.url_scheme": "http", **environ}, None)
    return seen["scheme"]


@pytest.mark.parametrize("remote", ["127.0.0.1", "::1", "10.20.30.40", "::ffff:10.1.2.3"])
def test_a_configured_proxy_is_believed(remote):
    assert _scheme_seen({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_PROTO": "https"}) == "https"
    assert _scheme_seen({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_SSL": "on"}) == "https"
    assert _scheme_seen({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_PROTOCOL": "ssl"}) == "https"
    assert _scheme_seen({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_PROTO": "http",
                         "wsgi.url_scheme": "https"}) == "http"


@pytest.mark.parametrize("remote", ["192.168.1.9", "11.0.0.1", "", "not-an-ip", "fe80::1%eth0"])
def test_anyone_else_is_not(remote):
    assert _scheme_seen({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_PROTO": "https"}) == "http"


def test_contradicting_headers_upgrade_nothing():
    both = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_SSL": "off"}
    assert _scheme_seen(both) == "http"
    assert _scheme_seen({"REMOTE_ADDR": "127.0.0.1"}) == "http"


def test_forwarded_headers_are_never_believed_from_anyone():
    assert "*" not in (ROOT / "Procfile").read_text().split("web:", 1)[1].splitlines()[0]
    assert load_settings({"PODS_FORWARDED_ALLOW_IPS": "*"}).returncode != 0
    assert load_settings({"PODS_FORWARDED_ALLOW_IPS": "10.0.0.0/8,192.168.1.5"}).settings[
        "PODS_FORWARDED_ALLOW_IPS"] == ["10.0.0.0/8", "192.168.1.5"]


@pytest.mark.parametrize("allowed, redirected", [("127.0.0.1,::1", False), ("10.9.9.9", True)])
def test_the_served_application_believes_the_configured_proxies_only(transactional_db, allowed, redirected):
    """Through the real server: production settings redirect plain HTTP to HTTPS, unless the
    connection comes from a configured proxy saying the client used HTTPS."""
    env = child_env(**{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "PODS_FORWARDED_ALLOW_IPS": allowed})
    with web_server(env) as base:
        plain = requests.get(f"{base}/v3/pods", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        proxied = requests.get(f"{base}/v3/pods", headers={"X-Forwarded-Proto": "https"},
                               allow_redirects=False, timeout=10)
        if redirected:
            assert proxied.status_code == 301
        else:
            assert proxied.status_code == 401, proxied.text  # served (as HTTPS): no token
            assert "Strict-Transport-Security" in proxied.headers


def test_the_development_allow_list_admits_no_other_registry(tenant):
    from templates_catalog.models import image_allowed

    assert image_allowed(tenant, "kubesim/web:1") and image_allowed(tenant, "kubesim/doesnotexist:2")
    for image in ("evil.example.org/doesnotexist:1", "docker.io/attacker/doesnotexist", "kubesim/anything-else",
                  "registry.example.org/kubesim/web:1"):
        assert not image_allowed(tenant, image), image
