"""Database connections in the workers: kept across tasks, checked before each one.

Celery's Django fix-up closes every database connection of the thread before and after every
task unless ``CELERY_DB_REUSE_MAX`` is set (celery/fixups/django.py, ``close_database``): each
task then opens a new connection, and Postgres forks a backend for it. Measured under
``bench/api_load.py`` (32 clients), the spawn worker spent about 5 % of its CPU connecting, and
Postgres as much again forking. The settings set ``CELERY_DB_REUSE_MAX`` so high that the fix-up
never closes them, and here every task starts and ends the way a web request does
(``close_old_connections``): a connection older than ``CONN_MAX_AGE``, or one that errored and
fails its check, is closed, and ``CONN_HEALTH_CHECKS`` makes the task's first query check the
connection (a ``SELECT 1``) so a task after a database restart reconnects instead of failing.

Eager tasks (run inside the caller, as in tests) and tasks called inside a transaction are left
alone: closing the caller's connection would end its transaction.
"""
from celery import signals
from django.db import connections


def _recycle(sender=None, **kwargs) -> None:
    request = getattr(sender, "request", None)
    if getattr(request, "is_eager", False):
        return
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def connect() -> None:
    signals.task_prerun.connect(_recycle, weak=False, dispatch_uid="pods-db-recycle-pre")
    signals.task_postrun.connect(_recycle, weak=False, dispatch_uid="pods-db-recycle-post")
