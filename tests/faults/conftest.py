"""The fault suite's stack: private Postgres and Redis (killed and restarted by the tests), kubesim,
and every service process under scripts/supervise.py (tests/faults/harness.py)."""
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.faults.harness import PG_BIN, Kubesim, PrivatePostgres, PrivateRedis, Stack


def _needs_binaries():
    if not (PG_BIN / "initdb").exists() or shutil.which("redis-server") is None:
        pytest.skip("the fault suite needs PostgreSQL 15 binaries and redis-server on this machine")


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory):
    """One stack per test module: the tests of a module share it and leave it healthy."""
    _needs_binaries()
    base = tmp_path_factory.mktemp("faults")
    # Postgres runs as the postgres user, who cannot enter pytest's private temporary directory.
    pg_dir = Path(tempfile.mkdtemp(prefix="pods-faults-pg-"))
    pg = PrivatePostgres(pg_dir).init()
    redis = PrivateRedis(base / "redis").start()
    sim = Kubesim(base).start()
    stack = Stack(base, pg, redis, sim)
    try:
        stack.prepare().start()
        yield stack
    finally:
        stack.stop()
        sim.stop()
        redis.kill()
        pg.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)
        print(f"\nfault stack logs: {base}")
