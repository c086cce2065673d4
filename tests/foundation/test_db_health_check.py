"""core.postgres: the per-request probe of a persistent connection is skipped only right after
the connection answered, and runs after an idle spell, an error or a reconnect (real Postgres)."""
import pytest
from django.db import connections

import core.postgres.base as backend

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conn(monkeypatch):
    conn = connections["default"]
    assert isinstance(conn, backend.DatabaseWrapper) and conn.health_check_enabled
    monkeypatch.setitem(conn.settings_dict, "CONN_MAX_AGE", 60)  # persistent, as deployed (tests use 0)
    conn.close()
    conn.connect()
    probes = []
    usable = conn.is_usable
    monkeypatch.setattr(conn, "is_usable", lambda: probes.append(1) or usable())
    conn.probes = probes
    return conn


def request(conn, *, fail=False):
    """What a request does to the connection: the signals' checks around one query."""
    conn.close_if_unusable_or_obsolete()  # request_started
    with conn.cursor() as cursor:
        cursor.execute("SELECT 2")
    if fail:
        conn.errors_occurred = True
    conn.close_if_unusable_or_obsolete()  # request_finished


def test_no_probe_right_after_the_connection_answered(conn):
    request(conn)
    before = len(conn.probes)
    request(conn)
    request(conn)
    assert len(conn.probes) == before


def test_a_probe_after_an_idle_spell(conn, monkeypatch):
    request(conn)
    monkeypatch.setattr(backend, "HEALTHY_FOR_SECONDS", 0.0)
    request(conn)  # answered, but the window is now empty
    before = len(conn.probes)
    request(conn)
    assert len(conn.probes) == before + 1


def test_a_probe_after_an_error_and_a_dead_connection_is_replaced(conn):
    request(conn)
    before = len(conn.probes)
    request(conn, fail=True)
    assert len(conn.probes) == before + 1, "after an error the connection is probed (at the request's end)"

    # The server drops the connection while it sits idle: the next request still succeeds.
    conn.close_if_unusable_or_obsolete()  # a request that reads its backend's pid
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    conn.close_if_unusable_or_obsolete()
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()
    conn._healthy_until = 0.0  # it has been idle longer than the window
    request(conn)
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
