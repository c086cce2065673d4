"""Benchmark how soon a change in Kubernetes shows in the API, with the cluster watch running.

kubesim runs with a manual clock, so the bench decides the instant a pod starts running (one
clock advance); a ``manage.py watch_cluster`` process follows the cluster; the bench then polls
``GET /v3/pods/{id}`` (Django's test client, in-process) until the pod is AVAILABLE. No sweep
runs, so what is measured is the watch path alone (without it, the bound is the sweep interval,
``PODS_SWEEP_SECONDS``, 5 s by default). Uses the ``pods_bench`` database.

The last line is one JSON object, e.g.
``{"bench": "status_latency", "pods": 20, "p50_ms": 40.0, "p95_ms": 80.0, "max_ms": 90.0}``.

Usage: ``python bench/status_latency.py [--pods 20]``
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pods_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = "pods-bench"
os.environ.setdefault("PODS_REDIS_PREFIX", "pods-bench")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from reconcile import prepare_database  # noqa: E402

from pods.identity import Principal  # noqa: E402
from pods.models import Pod  # noqa: E402
from pods.services.pods import pod_create  # noqa: E402
from pods.tenants import dev_token  # noqa: E402
from workers.kube import client as kube_client  # noqa: E402
from workers.spawner import reconcile_pod  # noqa: E402


def start_manual_kubesim(workdir: Path):
    kubeconfig = workdir / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "kubesim", "--port", "0", "--kubeconfig", str(kubeconfig),
                             "--manual-clock", "--node-cpu", "1000", "--node-memory", "4Ti",
                             "--log-level", "WARNING"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not kubeconfig.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("kubesim did not start")
        time.sleep(0.05)
    return proc, kubeconfig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=20)
    args = parser.parse_args(argv)
    tenant = prepare_database()
    Pod.objects.filter(tenant=tenant).delete()
    client = Client(HTTP_X_TAPIS_TOKEN=dev_token(tenant=tenant, username="bench", ttl=3600))
    principal = Principal(tenant=tenant, username="bench")
    latencies = []
    with TemporaryDirectory() as tmp:
        sim, kubeconfig = start_manual_kubesim(Path(tmp))
        settings.PODS_KUBECONFIG = str(kubeconfig)
        kube_client.reset_client()
        base = kube_client.api_client().configuration.host
        watcher = subprocess.Popen([sys.executable, "manage.py", "watch_cluster"], cwd=ROOT,
                                   env={**os.environ, "KUBECONFIG": str(kubeconfig)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(3)  # the watcher starts and lists
            for i in range(args.pods):
                pod = pod_create(principal=principal, data={"pod_id": f"status{i:03d}", "image": "kubesim/web:1"})
                reconcile_pod(pod.pk)  # the Pod exists, not yet scheduled (the clock is frozen)
                requests.post(f"{base}/_kubesim/clock/advance", json={"seconds": 30}, timeout=10)
                changed = time.perf_counter()
                while time.perf_counter() - changed < 10:
                    if client.get(f"/v3/pods/{pod.pod_id}").json()["result"]["status"] == "AVAILABLE":
                        latencies.append((time.perf_counter() - changed) * 1000)
                        break
                    time.sleep(0.005)
                else:
                    print(f"pod {i} not AVAILABLE: {Pod.objects.get(pk=pod.pk).status}", file=sys.stderr)
        finally:
            watcher.terminate()
            watcher.wait(10)
            sim.terminate()
            sim.wait(10)
            Pod.objects.filter(tenant=tenant).delete()
    if len(latencies) < args.pods:
        print(f"warning: {args.pods - len(latencies)} pods never showed AVAILABLE within 10 s", file=sys.stderr)
    q = statistics.quantiles(latencies, n=100)
    print(json.dumps({"bench": "status_latency", "pods": len(latencies), "p50_ms": round(q[49], 1),
                      "p95_ms": round(q[94], 1), "max_ms": round(max(latencies), 1)}))


if __name__ == "__main__":
    main()
