"""Project package: settings, URL map, Celery app and the wire envelope."""
from .celery import app as celery_app

__all__ = ("celery_app",)
