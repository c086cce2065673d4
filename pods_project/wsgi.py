"""WSGI entry point (``pods_project.wsgi:application``, served by ``python -m pods_project.serve``)."""
import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from pods_project.forwarded import trust_forwarded_scheme

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
application = trust_forwarded_scheme(get_wsgi_application(), settings.PODS_FORWARDED_ALLOW_IPS)

# Everything loaded so far (Django, DRF, the app's modules) lives for the whole process: move it
# out of the collector's reach, so the full collections that large responses trigger (a list of
# 1,000 pods) scan only request garbage. Measured with bench/api_bench.py: see the README.
gc.freeze()
