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

os.environ["CELERY_TASK_DEFAULT_QUEUE"] = "pods-bench"

import requests  # noqa: E402
from benchenv import ROOT  # noqa: E402 - sets up Django on the bench database
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from kubesim_bench import start_kubesim  # noqa: E402
from reconcile import prepare_database  # noqa: E402

from pods.models import Pod  # noqa: E402
from pods.services.pods import pod_create  # noqa: E402
from tenancy.identity import Principal  # noqa: E402
from tenancy.services import dev_token  # noqa: E402
from workers.kube import client as kube_client  # noqa: E402
from workers.spawner import reconcile_pod  # noqa: E402


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
        sim, kubeconfig = start_kubesim(Path(tmp), args.pods, "--manual-clock")
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
