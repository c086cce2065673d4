"""Django settings of the server ``api_bench.py`` measures: the project's own, plus the floor URLs.

Nothing else differs from ``pods_project.settings`` (same middleware, authentication, renderer),
so the floor endpoints of ``floor_urls.py`` cost what any API view costs before its own work.
They are never part of the service: only a server started with
``DJANGO_SETTINGS_MODULE=bench.floor_settings`` (as ``api_bench.py`` does) has them.
"""
from pods_project.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.floor_urls"
# As in production: with DEBUG on, Django wraps every cursor to record each query.
DEBUG = False
