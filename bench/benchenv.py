"""Shared set-up of the Django-backed benchmarks (reconcile, spawn_latency, status_latency).

Importing it points Django at the ``pods_bench`` database (unless DATABASE_URL says otherwise),
gives the run its own Redis key prefix, and sets Django up. Scripts set anything else they need
(e.g. their Celery queue) in the environment before importing it.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pods_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
os.environ.setdefault("PODS_REDIS_PREFIX", "pods-bench")

import django  # noqa: E402

django.setup()
