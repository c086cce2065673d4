"""The long fault campaign (`make test-faults`; marked slow, so not in the default run).

One stack with two beats under a steady load of 16 clients (create / get / list), and, one after
the other, with the issue's durations: Redis down 60 s; Redis restarted empty while the worker is
SIGKILLed mid-burst; Postgres down 20 s; the cluster's API down 60 s. After each: no 5xx but the
database's 503, and the pods converge. At the end: nothing in flight within 2 minutes, every
AVAILABLE pod with exactly one Kubernetes pod of its instance, no orphans, one sweep per interval.
Prints per phase the answers seen, the slowest request and the time to converge.
"""
import re
import time

import pytest

from tests.faults.harness import Load, invariant_problems, settle, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout_note("about eight minutes")]

REDIS_DOWN, PG_DOWN, CLUSTER_DOWN = 60, 20, 60


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory):
    """This module's own stack: two beats (the shared one has one)."""
    from tests.faults.conftest import _needs_binaries
    from tests.faults.harness import private_stack

    _needs_binaries()
    with private_stack(tmp_path_factory.mktemp("campaign"), "campaign", beats=2,
                       extra_env={"PODS_USER_MAX_PODS": "100000", "PODS_TENANT_MAX_PODS": "100000"}) as stack:
        yield stack


def _report(load, name, since, until):
    codes = load.codes(since, until)
    slowest = ", ".join(f"{op} {load.slowest(since, until, op):.2f} s" for op in ("create", "get", "list"))
    print(f"{name}: answers {sorted(codes.items())}; slowest: {slowest}")
    return codes


def _server_errors(codes, allowed=()):
    return {k: v for k, v in codes.items() if (not isinstance(k[1], int) or k[1] >= 500) and k[1] not in allowed}


def _converge(stack, load, name, since):
    created = list(load.created)

    def all_available():
        rows = stack.rows()  # once per look: thousands of pods, each read from it
        return all(rows.get(p, ("",))[0] == "AVAILABLE" for p in created)

    wait_for(all_available, 240, f"{name}: every pod created so far AVAILABLE")
    print(f"{name}: {len(created)} pods AVAILABLE {time.time() - since:.1f} s after the component returned")


def test_fault_campaign(fault_stack):
    stack = fault_stack
    load = Load(stack, clients=16, prefix="c", pause=0.2).start()
    try:
        time.sleep(10)

        # 1. Redis down 60 s during creates.
        t0 = time.time()
        stack.redis.kill()
        time.sleep(REDIS_DOWN)
        t1 = time.time()
        stack.redis.start()
        codes = _report(load, "redis down", t0, t1)
        assert not _server_errors(codes), codes
        assert codes.get(("create", 200), 0) > 0
        _converge(stack, load, "redis down", t1)

        # 2. Redis restarted empty and the worker SIGKILLed mid-burst.
        t0 = time.time()
        stack.kill("worker")
        stack.redis.kill()
        time.sleep(5)
        stack.redis.start(empty=True)
        t1 = time.time()
        assert not _server_errors(_report(load, "redis empty + worker killed", t0, t1))
        _converge(stack, load, "redis empty + worker killed", t1)

        # 3. Postgres down 20 s.
        t0 = time.time()
        stack.pg.stop()
        time.sleep(PG_DOWN)
        t1 = time.time()
        stack.pg.start()
        codes = _report(load, "postgres down", t0, t1)
        assert not _server_errors(codes, allowed=(503,)), codes
        wait_for(lambda: stack.session().get(f"{stack.url}/v3/pods", timeout=10).status_code == 200, 30,
                 "the API answering again")
        assert stack.restarts("web") == 0
        _converge(stack, load, "postgres down", t1)

        # 4. The cluster's API down 60 s.
        t0 = time.time()
        stack.sim.outage()
        seen = wait_for(lambda: stack.health()["metadata"]["kubernetes"].startswith("unreachable") and time.time(),
                        15, "the healthcheck saying unreachable")
        print(f"cluster down: the healthcheck said unreachable after {seen - t0:.1f} s")
        time.sleep(max(0.0, CLUSTER_DOWN - (time.time() - t0)))
        t1 = time.time()
        stack.sim.heal()
        assert not _server_errors(_report(load, "cluster down", t0, t1))
        _converge(stack, load, "cluster down", t1)
    finally:
        load.stop()

    settle(stack, timeout=120)
    time.sleep(6)  # past the orphan grace period
    assert invariant_problems(stack) == []
    everything = load.codes()
    print(f"whole campaign: {sorted(everything.items())}")

    # Two beats, one sweep per interval (PODS_RESYNC_SECONDS): the second beat's are skipped. (At INFO
    # Celery's per-task lines are quiet; the skip is the sweep's own INFO line.)
    log = stack.log.read_text(errors="replace")
    skipped = len(re.findall(r"sweep: this interval already had its sweep", log))
    print(f"sweeps: {skipped} skipped (sent by the second beat in an interval already swept)")
    assert skipped > 0
