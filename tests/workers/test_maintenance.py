"""workers/maintenance.py: tables full of dead rows are vacuumed (and analysed), others left
alone, against the real Postgres (whose autovacuum may be off, as on this machine)."""
import pytest
from django.db import connection

from workers.maintenance import due_tables, model_tables, vacuum_if_needed

pytestmark = pytest.mark.django_db(transaction=True)  # VACUUM cannot run in a transaction


def stats(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_dead_tup, n_mod_since_analyze, vacuum_count + autovacuum_count"
                       " FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()


def churn(rows):
    """``rows`` sessions written and deleted (each leaves a dead row), counted in the stats at once.

    (Updates of one row would not do: Postgres prunes a page's HOT chain by itself.)"""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO django_session SELECT 'churn' || g, 'x', now() FROM generate_series(1, %s) g", [rows])
        cursor.execute("DELETE FROM django_session WHERE session_key LIKE 'churn%%'")
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # the flush happens at the end of the previous transaction


def test_a_table_past_the_threshold_is_vacuumed_and_analysed_and_then_left_alone(settings):
    settings.PODS_VACUUM_MIN_DEAD, settings.PODS_VACUUM_FRACTION = 300, 0.1
    vacuum_if_needed()  # whatever earlier tests left
    churn(400)
    dead, modified, vacuums = stats("django_session")
    assert dead >= 300 and modified >= 300
    with connection.cursor() as cursor:
        assert ("django_session", True) in due_tables(cursor)

    assert "django_session" in vacuum_if_needed()
    dead_after, modified_after, vacuums_after = stats("django_session")
    assert vacuums_after == vacuums + 1 and dead_after < 300 and modified_after < 300
    assert "django_session" not in vacuum_if_needed(), "nothing new to reclaim"


def test_below_the_threshold_nothing_is_vacuumed(settings):
    settings.PODS_VACUUM_MIN_DEAD, settings.PODS_VACUUM_FRACTION = 10_000, 0.1
    churn(50)
    assert vacuum_if_needed() == []


def test_only_the_services_own_tables_are_looked_at():
    tables = model_tables()
    assert {"pods_pod", "pods_podusage", "pods_podevent", "pods_tenant", "django_session"} <= set(tables)
    assert not [t for t in tables if t.startswith("pg_")]


def test_the_beat_runs_it_on_the_bulk_queue(settings):
    from django.conf import settings as live

    entry = live.CELERY_BEAT_SCHEDULE["vacuum-every-PODS_VACUUM_SECONDS"]
    assert entry["task"] == "workers.vacuum" and entry["schedule"] == live.PODS_VACUUM_SECONDS
    assert live.CELERY_TASK_ROUTES["workers.vacuum"]["queue"] == live.PODS_BULK_QUEUE
