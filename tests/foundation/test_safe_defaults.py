"""Safe defaults: production settings pass Django's deployment checks, weak secrets stop start-up,
gunicorn trusts forwarded headers only from the configured proxies, and the development image
allow-list names the simulator's images exactly."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.foundation.settings_probe import load_settings

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


def test_gunicorn_trusts_forwarded_headers_only_from_the_configured_proxies():
    assert "*" not in (ROOT / "Procfile").read_text().split("web:", 1)[1].splitlines()[0]
    probe = ("from gunicorn.config import Config; c = Config(); c.set('forwarded_allow_ips', "
             "__import__('runpy').run_path('gunicorn.conf.py')['forwarded_allow_ips']); "
             "print(c.forwarded_allow_ips)")
    result = run([sys.executable, "-c", probe], {"PODS_FORWARDED_ALLOW_IPS": "10.0.0.0/8,192.168.1.5"})
    assert result.returncode == 0, result.stderr
    assert "10.0.0.0/8" in result.stdout and "192.168.1.5" in result.stdout
    default = run([sys.executable, "-c", probe], {})
    assert "127.0.0.1" in default.stdout and "*" not in default.stdout
    assert load_settings({"PODS_FORWARDED_ALLOW_IPS": "*"}).returncode != 0


def test_the_development_allow_list_admits_no_other_registry(tenant):
    from templates_catalog.models import image_allowed

    assert image_allowed(tenant, "kubesim/web:1") and image_allowed(tenant, "kubesim/doesnotexist:2")
    for image in ("evil.example.org/doesnotexist:1", "docker.io/attacker/doesnotexist", "kubesim/anything-else",
                  "registry.example.org/kubesim/web:1"):
        assert not image_allowed(tenant, image), image
