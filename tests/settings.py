"""Settings for test runs: the project's settings plus what isolates a run on a shared machine.

A developer's ``make run`` may be going on the same Redis: tasks sent by the tests go to a queue
of this run's own (a dev worker would otherwise pick them up and act on its own database's
rows). Child processes the tests start (Celery workers) get the same queue through their
environment. No database connection outlives a live-server request thread.
"""
import os
import uuid

_run = f"pods-test-{uuid.uuid4().hex[:10]}"
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", _run)
os.environ.setdefault("PODS_REDIS_PREFIX", _run)

from pods_project.settings import *  # noqa: E402,F401,F403
from pods_project.settings import DATABASES  # noqa: E402

DATABASES["default"]["CONN_MAX_AGE"] = 0
