"""Django's PostgreSQL backend, with the per-request health check skipped while it cannot help.

With ``CONN_HEALTH_CHECKS`` a persistent connection is probed (``SELECT 1``) before the first
query of every request, so that one the server dropped while it sat idle is replaced instead
of failing the request. Under load that probe was a second round trip for every read (a GET
makes one query) and ~3 % of the web's CPU, for connections that had answered a few
milliseconds earlier. Here the probe is skipped when the connection's previous request (or task)
used it without an error less than ``HEALTHY_FOR_SECONDS`` ago; after an idle spell, an error,
or a database outage (every request failing) it runs as before, so a restarted Postgres is
still met with fresh connections and no failed request.
"""
import time

from django.db.backends.postgresql import base

HEALTHY_FOR_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _healthy_until = 0.0

    def close_if_unusable_or_obsolete(self):
        # Called at the start and the end of each request (and each Celery task here). At the end,
        # ``health_check_done`` says this request used the connection, which then answered.
        if self.connection is not None and self.health_check_done and not self.errors_occurred:
            self._healthy_until = time.monotonic() + HEALTHY_FOR_SECONDS
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.errors_occurred and time.monotonic() < self._healthy_until):
            self.health_check_done = True  # it answered a moment ago: no probe
            return
        super().close_if_health_check_failed()

    def close(self):
        self._healthy_until = 0.0
        super().close()
