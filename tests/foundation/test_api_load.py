"""bench/api_load.py runs: both phases against a live server, every answer counted, its pods
deleted at the end (the script once shipped with clients that never started)."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("api_load", ROOT / "bench" / "api_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.live
def test_both_phases_run_and_the_pods_are_deleted(transactional_db, live_server, make_tenant):
    from pods.models import Pod
    from tenancy.services import dev_token

    tenant = make_tenant("dev")
    tokens = [dev_token(tenant=tenant, username=f"load-t-{n}") for n in range(3)]
    lines = load_bench().measure(live_server.url, tokens, creates=6, seconds=1.0, weights=[1, 6, 2, 1],
                                 run_id="t1", log=lambda text: None)
    by_op = {(line["phase"], line["op"]): line for line in lines}
    assert by_op[("burst", "create")]["requests"] == 6
    assert {("mixed", op) for op in ("create", "get", "list")} <= set(by_op)
    assert all(line["errors"] == 0 and line["p95_ms"] >= line["p50_ms"] > 0 for line in lines), lines
    json.dumps(lines)  # what main() prints
    assert not Pod.objects.filter(pod_id__startswith="ldt1").exists(), "the run's pods are deleted"


def test_a_server_that_is_not_there_counts_as_server_errors():
    bench = load_bench()
    lines = bench.measure("http://127.0.0.1:9", ["token"], creates=2, seconds=0.2, weights=[1, 0, 0, 0],
                          run_id="t2", log=lambda text: None)
    burst = [line for line in lines if line["phase"] == "burst"][0]
    assert burst["requests"] == 2 and burst["server_errors"] == 2


def test_the_mix_is_validated():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "api_load.py"), "--mix", "1:2:3"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--mix takes four" in done.stderr
