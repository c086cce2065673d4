"""Benchmark the reconcile sweep in steady state against kubesim and Postgres.

For each N: N AVAILABLE pods are written straight into Postgres (database ``pods_bench``,
created and migrated if missing) and their N Pods and N Services are created in a kubesim
subprocess through the real client. After one warm-up sweep, steady-state sweeps are timed,
with the Kubernetes requests they sent (``kube_requests``: the sweep's own report, counted by the
client as it sends each request), what kubesim received (``kube_requests_seen``: its journal; the
two differ only if a request was lost on the way) and their DB queries (maxima over the rounds).

The last lines of output are one JSON object per N, e.g.
``{"bench": "sweep", "pods": 10000, "seconds": 1.1, "seconds_max": 1.2, "kube_requests": 3,
"kube_requests_seen": 3, "db_queries": 2}``.

Usage: ``python bench/reconcile.py [--pods 100,1000,10000] [--rounds 3]``
"""
import argparse
import json
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory

import benchenv  # noqa: F401 - sets up Django on the bench database
import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from kubesim_bench import start_kubesim  # noqa: E402

from pods.choices import PodStatus  # noqa: E402
from pods.models import Pod  # noqa: E402
from tenancy.models import Tenant
from tenancy.services import tenant_create  # noqa: E402


def prepare_database():
    call_command("ensure_database", verbosity=0)
    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.filter(tenant_id="bench").first()
    tenant = tenant or tenant_create(tenant_id="bench", pod_domain="bench.local", generate_key=True)
    # Benchmarks create more pods than the site's default quotas allow a tenant and a user.
    Tenant.objects.filter(pk=tenant.pk).update(max_pods=1_000_000, max_pods_per_user=1_000_000)
    tenant.refresh_from_db()
    return tenant


def seed(tenant, count: int) -> list:
    """N AVAILABLE pods, as the sweep would find them after spawning."""
    Pod.objects.filter(tenant=tenant).delete()
    now = timezone.now()
    pods = [Pod(tenant=tenant, pod_id=f"bench{i:05d}", image="kubesim/web:1", status=PodStatus.AVAILABLE,
                instance_id=uuid.uuid4(), start_instance_ts=now, status_changed_at=now,
                status_container={"phase": "Running", "message": "The pod is running."},
                networking={"default": {"protocol": "http", "port": 5000, "url": f"bench{i:05d}.pods.bench.local"}},
                resources={"cpu_request": 10, "cpu_limit": 10, "mem_request": 1, "mem_limit": 1})
            for i in range(count)]
    Pod.objects.bulk_create(pods, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pods_pod")
    return list(Pod.objects.filter(tenant=tenant).select_related("tenant"))


def create_objects(pods, threads=16):
    from workers.kube import api as kube
    from workers.kube.manifests import pod_manifest, service_manifest
    from workers.spec import pod_spec_for

    def one(pod):
        spec = pod_spec_for(pod)
        kube.create("service", service_manifest(spec))
        kube.create("pod", pod_manifest(spec))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, pods))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", default="100,1000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.pods.split(",")]

    from django.conf import settings

    from workers.kube import client as kube_client
    from workers.sweep import sweep

    tenant = prepare_database()
    results = []
    with TemporaryDirectory() as tmp:
        proc, kubeconfig = start_kubesim(Path(tmp), max(sizes))
        try:
            settings.PODS_KUBECONFIG = str(kubeconfig)
            settings.PODS_KUBE_NAMESPACE = "default"
            settings.PODS_KUBE_REQUEST_TIMEOUT = 120
            base = kube_client.api_client().configuration.host
            for n in sizes:
                requests.post(f"{base}/_kubesim/reset", timeout=30)
                pods = seed(tenant, n)
                started = time.perf_counter()
                create_objects(pods)
                print(f"created {n} pods and services in {time.perf_counter() - started:.1f}s", file=sys.stderr)
                requests.post(f"{base}/_kubesim/settle", json={"max_seconds": 300}, timeout=300)
                warm = sweep()
                print(f"warm-up sweep: {warm.transitions} transitions, {warm.container_updates} updates",
                      file=sys.stderr)
                times, sent, seen, queries = [], [], [], []
                for _ in range(args.rounds):
                    requests.delete(f"{base}/_kubesim/journal", timeout=30)
                    with CaptureQueriesContext(connection) as ctx:
                        t0 = time.perf_counter()
                        report = sweep()
                        times.append(time.perf_counter() - t0)
                    journal = requests.get(f"{base}/_kubesim/journal", timeout=30).json()
                    sent.append(report.kube_requests)
                    seen.append(len(journal["entries"]))
                    queries.append(len(ctx.captured_queries))
                    assert report.transitions == 0, "not a steady state"
                results.append({"bench": "sweep", "pods": n, "seconds": round(statistics.median(times), 3),
                                "seconds_max": round(max(times), 3), "kube_requests": max(sent),
                                "kube_requests_seen": max(seen), "db_queries": max(queries)})
        finally:
            proc.terminate()
            proc.wait(10)
            Pod.objects.filter(tenant=tenant).delete()
    for line in results:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
