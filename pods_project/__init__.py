"""Project package: settings, URL map, the Celery app, WSGI/ASGI — nothing else (docs/architecture.md)."""
from .celery import app as celery_app

__all__ = ("celery_app",)
