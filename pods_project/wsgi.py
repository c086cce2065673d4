"""WSGI entry point (gunicorn ``pods_project.wsgi``)."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, DRF, the app's modules) lives for the whole process: move it
# out of the collector's reach, so the full collections that large responses trigger (a list of
# 1,000 pods) scan only request garbage. Measured with bench/api_bench.py: see the README.
gc.freeze()
