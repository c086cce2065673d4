"""`make test` works in a terminal where `make run`'s variables are exported."""
import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = ("import django; django.setup(); from django.conf import settings; "
         "print(settings.CELERY_TASK_DEFAULT_QUEUE, settings.PODS_REDIS_PREFIX, settings.PODS_KUBECONFIG or '-')")


def test_make_run_variables_do_not_leak_into_test_settings():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "CELERY_TASK_DEFAULT_QUEUE": "pods",
           "PODS_REDIS_PREFIX": "pods", "KUBECONFIG": str(ROOT / ".run" / "kubesim.kubeconfig")}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    queue, prefix, kubeconfig = out
    assert queue.startswith("pods-test-") and prefix == queue
    assert ".run" not in kubeconfig
