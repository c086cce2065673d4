"""The Celery app. Everything is configured in Django settings under the ``CELERY_`` prefix."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")

# pods_project.broker: a Redis transport that survives a reconnect, and quick reconnects.
app = Celery("pods_project", amqp="pods_project.broker:AMQP")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
