"""Celery task outcomes in Prometheus (``pods_celery_tasks_total{task, outcome}``), counted in
the worker process that ran the task (the multiprocess directory carries them to the scrape)."""
from celery import signals

from core.metrics import CELERY_TASKS


def _name(sender) -> str:
    return getattr(sender, "name", None) or str(sender or "unknown")


def _success(sender=None, **_):
    CELERY_TASKS.labels(_name(sender), "success").inc()


def _failure(sender=None, **_):
    CELERY_TASKS.labels(_name(sender), "failure").inc()


def _retry(sender=None, **_):
    CELERY_TASKS.labels(_name(sender), "retry").inc()


def _revoked(sender=None, request=None, expired=False, **_):
    CELERY_TASKS.labels(_name(sender), "expired" if expired else "revoked").inc()


def connect() -> None:
    signals.task_success.connect(_success, weak=False, dispatch_uid="pods-metrics-success")
    signals.task_failure.connect(_failure, weak=False, dispatch_uid="pods-metrics-failure")
    signals.task_retry.connect(_retry, weak=False, dispatch_uid="pods-metrics-retry")
    signals.task_revoked.connect(_revoked, weak=False, dispatch_uid="pods-metrics-revoked")
