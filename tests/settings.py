"""Settings for test runs: the project's settings plus what isolates a run on a shared machine.

A developer's ``make run`` may be going on the same Redis: tasks sent by the tests go to a queue
of this run's own (a dev worker would otherwise pick them up and act on its own database's
rows). Child processes the tests start (Celery workers) get the same queue through their
environment. No database connection outlives a live-server request thread.

The variables `make run` exports (its queue, Redis prefix, kubeconfig, metrics directory) are
overridden, not merely defaulted, so `make test` works in the terminal that runs `make run`.
"""
import atexit
import os
import shutil
import tempfile
import uuid

_run = f"pods-test-{uuid.uuid4().hex[:10]}"
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = _run
os.environ["PODS_REDIS_PREFIX"] = _run
for _name in ("KUBECONFIG", "KUBESIM_PORT", "KUBESIM_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "PODS_METRICS_TOKEN"):
    os.environ.pop(_name, None)
# This run's own Prometheus directory, shared with the processes it starts (child_env copies it).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"{_run}-metrics-")
atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

from pods_project.settings import *  # noqa: E402,F401,F403
from pods_project.settings import DATABASES  # noqa: E402

DATABASES["default"]["CONN_MAX_AGE"] = 0
# A test that reads the broker right after a request must find the wake-up there: sends happen on
# the request. tests/pods/test_dispatch.py and the e2e stack (tests/e2e/conftest.py) run the
# production mode, the sender thread.
PODS_ENQUEUE_IN_BACKGROUND = False
