"""Benchmark spawn latency: from the API accepting a create to the Kubernetes create call.

Starts kubesim and a real Celery worker process, then creates pods one by one through the API
(Django's test client, in-process: the real view, service, transaction and after-commit
enqueue, without an HTTP server's own overhead). A watch on the cluster's pods, in this process,
timestamps each Pod's ADDED event on the same clock as the API's answer; latency = that minus
the moment the API answered (the watch delivery, ~2 ms, is included, so this is an upper bound).
Uses the ``pods_bench`` database and a queue of its own.

The last line is one JSON object, e.g.
``{"bench": "spawn_latency", "pods": 100, "p50_ms": 12.3, "p95_ms": 30.1, "max_ms": 45.0}``.

Usage: ``python bench/spawn_latency.py [--pods 100] [--interval 0.05]``
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "pods-bench")
os.environ.setdefault("PODS_SWEEP_SECONDS", "3600")  # no beat here; only the tasks are measured

import urllib3  # noqa: E402
from benchenv import ROOT  # noqa: E402 - sets up Django on the bench database
from django.test import Client  # noqa: E402
from kubesim_bench import start_kubesim  # noqa: E402
from reconcile import prepare_database  # noqa: E402

from pods.models import Pod  # noqa: E402
from tenancy.services import dev_token  # noqa: E402


def start_worker(kubeconfig: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "pods_project", "worker", "--pool", "threads",
             "--concurrency", "4", "-Q", os.environ["CELERY_TASK_DEFAULT_QUEUE"], "--loglevel", "WARNING", "--without-heartbeat",
             "--without-gossip", "--without-mingle", "-n", "bench@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    time.sleep(4)  # the worker connects and imports
    return proc


def watch_creates(kubeconfig: Path, created: dict):
    """Record the wall time at which each new Pod shows up."""
    from kubernetes import client, config, watch

    core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    version = core.list_namespaced_pod("default").metadata.resource_version
    try:
        for event in watch.Watch().stream(core.list_namespaced_pod, "default", resource_version=version,
                                          timeout_seconds=120):
            if event["type"] == "ADDED":
                created.setdefault(event["object"].metadata.name, time.time())
    except urllib3.exceptions.HTTPError:
        pass  # kubesim stopped at the end of the run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between creates")
    args = parser.parse_args(argv)

    tenant = prepare_database()
    Pod.objects.filter(tenant=tenant).delete()
    client = Client(HTTP_X_TAPIS_TOKEN=dev_token(tenant=tenant, username="bench", ttl=3600))
    with TemporaryDirectory() as tmp:
        sim, kubeconfig = start_kubesim(Path(tmp), args.pods)
        worker = start_worker(kubeconfig, Path(tmp) / "worker.log")
        try:
            # Warm the worker (imports, connections) with one pod that is not measured.
            client.post("/v3/pods", {"pod_id": "warmup", "image": "kubesim/web:1"}, content_type="application/json")
            time.sleep(2)
            accepted, created = {}, {}
            watcher = threading.Thread(target=watch_creates, args=(kubeconfig, created), daemon=True)
            watcher.start()
            time.sleep(0.5)
            for i in range(args.pods):
                pod_id = f"lat{i:04d}"
                response = client.post("/v3/pods", {"pod_id": pod_id, "image": "kubesim/web:1"},
                                       content_type="application/json")
                accepted[f"pods-{tenant.site_id}-{tenant.tenant_id}-{pod_id}"] = time.time()
                assert response.status_code == 200, response.content
                time.sleep(args.interval)
            deadline = time.monotonic() + 60
            while len(created) < args.pods and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(10)
            sim.terminate()
            sim.wait(10)
            Pod.objects.filter(tenant=tenant).delete()
    latencies = sorted((created[name] - accepted[name]) * 1000 for name in accepted if name in created)
    if len(latencies) < args.pods:
        print(f"warning: only {len(latencies)} of {args.pods} creates arrived", file=sys.stderr)
    q = statistics.quantiles(latencies, n=100)
    print(json.dumps({"bench": "spawn_latency", "pods": len(latencies), "p50_ms": round(q[49], 1),
                      "p95_ms": round(q[94], 1), "max_ms": round(latencies[-1], 1)}))


if __name__ == "__main__":
    main()
