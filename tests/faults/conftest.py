"""The fault suite's stack: private Postgres and Redis (killed and restarted by the tests), kubesim,
and every service process under scripts/supervise.py (tests/faults/harness.py)."""
import shutil

import pytest

from tests.faults.harness import PG_BIN, private_stack


def _needs_binaries():
    if not (PG_BIN / "initdb").exists() or shutil.which("redis-server") is None:
        pytest.skip("the fault suite needs PostgreSQL 15 binaries and redis-server on this machine")


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory):
    """One stack per test module: the tests of a module share it and leave it healthy."""
    _needs_binaries()
    with private_stack(tmp_path_factory.mktemp("faults"), "faults") as stack:
        yield stack
