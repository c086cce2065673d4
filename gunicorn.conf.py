"""gunicorn's configuration, read from the working directory: what it takes from the settings.

gunicorn trusts ``X-Forwarded-Proto`` and friends only from ``PODS_FORWARDED_ALLOW_IPS`` (the
proxies in front of it), never from anyone (``*``): otherwise any client could claim HTTPS.

The server model was chosen by measurement with ``bench/api_bench.py`` on the 2-core machine
(figures in the README's "Performance" section and docs/performance.md):

- **gthread workers with keep-alive**, not sync ones: a sync worker closes the connection after
  every response, so each request pays a new TCP connection (the authenticated floor went from
  about 7 ms with sync workers to about 3.5 ms with gthread); a proxy in front (Traefik, nginx)
  reuses its upstream connections only if the server keeps them open.
- **One process per core** (``WEB_CONCURRENCY``, default 2): request handling is Python, held
  by the GIL, so a third process on two cores only adds context switches (it measured slower).
- **16 threads per process** (``WEB_THREADS``): enough to overlap database and Redis waits under
  load. One client at a time measured the same with 4, 8 or 16; with 32 clients
  (``bench/api_load.py``, mixed create/get/list/delete) reads' p95 was 560-600 ms with 2 x 8 and
  260-380 ms with 2 x 16 (2 x 32 and 3 x 16 no better than 2 x 16): creates and deletes of one
  tenant queue briefly on its usage-counter row (pods.models.usage), and with 8 threads the
  threads waiting there left too few for the reads. Each thread keeps its own database
  connection (``DATABASE_CONN_MAX_AGE``), so a web process holds up to ``threads`` connections.

Flags on the command line (the Procfile's ``--workers``) override these values.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")

from django.conf import settings  # noqa: E402  (after the settings module is named)

forwarded_allow_ips = ",".join(settings.PODS_FORWARDED_ALLOW_IPS)

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
keepalive = 5  # seconds an idle keep-alive connection stays open
