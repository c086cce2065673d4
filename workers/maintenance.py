"""Vacuuming the service's own tables when they fill with dead rows.

Every create, delete and status change leaves dead row versions behind: a tenant's usage
counter (pods.models.usage) is rewritten twice per create or delete, a pod's row at each
transition. Postgres reclaims them with VACUUM, normally run by autovacuum, but a server can
have autovacuum off (the development and CI machines here do), and even when it is on its
defaults (a one-minute nap, 20 % of the table) let a one-row counter collect thousands of
versions between passes. Each write of that row then walks the chain and each index scan of
``pods_pod`` steps over dead entries: ``bench/api_load.py`` lost about 15 % of its throughput
per run on a server left unvacuumed (throughput back at once after a VACUUM of 0.15 s).

:func:`vacuum_if_needed` (beat: ``workers.vacuum``, every ``PODS_VACUUM_SECONDS``) looks at
Postgres' own counters (``pg_stat_user_tables``) and vacuums, with ANALYZE when enough rows
changed, only the tables of installed models past their thresholds. ``SKIP_LOCKED``: a table
that autovacuum or another worker is vacuuming is skipped, never waited for. VACUUM takes no
lock that reads or writes wait on.
"""
import logging

from django.apps import apps
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def model_tables() -> list[str]:
    return sorted({m._meta.db_table for m in apps.get_models() if m._meta.managed and not m._meta.proxy})


def due_tables(cursor) -> list[tuple[str, bool]]:
    """``(table, analyze)`` for each table of ours whose dead rows passed the threshold (or, for
    ANALYZE, whose changes since the last analysis did)."""
    cursor.execute(
        "SELECT relname, n_dead_tup, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables"
        " WHERE schemaname = current_schema() AND relname = ANY(%s)", [model_tables()])
    due = []
    for table, dead, live, modified in cursor.fetchall():
        threshold = max(settings.PODS_VACUUM_MIN_DEAD, settings.PODS_VACUUM_FRACTION * live)
        if dead >= threshold or modified >= threshold:
            due.append((table, modified >= threshold))
    return due


def vacuum_if_needed() -> list[str]:
    """VACUUM (and ANALYZE) the tables that need it now; returns their names."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []  # VACUUM cannot run inside a transaction
    done = []
    with connection.cursor() as cursor:
        for table, analyze in due_tables(cursor):
            options = "SKIP_LOCKED, ANALYZE" if analyze else "SKIP_LOCKED"
            cursor.execute(f"VACUUM ({options}) {connection.ops.quote_name(table)}")
            done.append(table)
    if done:
        logger.debug("vacuumed %s", ", ".join(done))
    return done
