"""gunicorn's configuration, read from the working directory: what it takes from the settings.

gunicorn trusts ``X-Forwarded-Proto`` and friends only from ``PODS_FORWARDED_ALLOW_IPS`` (the
proxies in front of it), never from anyone (``*``): otherwise any client could claim HTTPS.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")

from django.conf import settings  # noqa: E402  (after the settings module is named)

forwarded_allow_ips = ",".join(settings.PODS_FORWARDED_ALLOW_IPS)
