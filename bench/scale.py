"""Benchmark the whole service at scale: N running pods on one (simulated) cluster.

For each N: N AVAILABLE pods are written into Postgres (database ``pods_bench``, or
``DATABASE_URL``) in one tenant, each with a permission for the bench user, and their N Pods and
N Services are created in a kubesim subprocess (``/_kubesim/bulk``, each object through the same
path as a POST) and run. Then, one figure per JSON line:

* ``resync`` — the beat sweep (the safety net's full resync, workers.sweep): seconds (median of
  ``--rounds``, and maximum), Kubernetes requests it sent, DB queries;
* ``informer_sync`` — the watcher's informer from start to a complete mirror (three lists) and
  its first full pass over every pod; ``mirror_mib`` is the mirror's deep size;
* ``informer_resync`` — the informer's own periodic full resync (every ``PODS_RESYNC_SECONDS``):
  every row that may still change planned from the mirror, one query and no Kubernetes request
  (median of ``--rounds``);
* ``steady_state`` — the informer with nothing changing, for ``--steady-seconds``: Kubernetes
  requests kubesim received and DB queries the informer made, per ``PODS_SWEEP_SECONDS``
  interval (``--interval``);
* ``change_to_api`` — ``--changes`` Pods deleted one at a time in the cluster; the time from the
  delete's answer until ``GET /v3/pods/{id}`` (Django's test client, in-process) no longer says
  AVAILABLE (the informer saw it vanish and asked for a new start): p50, p95, max;
* ``traefik_config`` — ``GET /traefik-config``: the first render (ms, bytes), a cached 200, and
  a 304 for ``If-None-Match``;
* ``list_pods`` — ``GET /v3/pods`` as the owner of all N, in admin mode, and one page
  (``limit=100&skip=N/2``);
* ``admin_changelist`` — the admin site's pod changelist, first page, as a superuser;
* ``kubesim`` — a labelled list of the N Pods through the client (seconds, bytes) and kubesim's
  resident memory (current and peak MiB).

Usage: ``python bench/scale.py [--pods 10000,100000] [--rounds 3] [--changes 50]
[--steady-seconds 10] [--interval 1]``
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "pods-bench-scale")  # nothing consumes it here
os.environ.setdefault("PODS_REDIS_PREFIX", "pods-bench-scale")  # its own leader lease

import benchenv  # noqa: E402,F401 - sets up Django on the bench database
import orjson  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from kubesim_bench import rss_mib, start_kubesim  # noqa: E402
from reconcile import prepare_database  # noqa: E402

from core.permissions import PermissionLevel  # noqa: E402
from pods.choices import PodStatus  # noqa: E402
from pods.models import Pod, PodPermission  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tenancy.services import dev_token  # noqa: E402

USER = "scaleuser"
BULK = 5000


def out(figure: dict, results: list) -> None:
    results.append(figure)
    print(json.dumps(figure), file=sys.stderr, flush=True)


def seed(tenant, count: int) -> None:
    """N AVAILABLE pods (as after spawning) with an ADMIN permission each for the bench user."""
    Pod.objects.filter(tenant=tenant).delete()
    now = timezone.now()
    for start in range(0, count, 10_000):
        pods = Pod.objects.bulk_create([
            Pod(tenant=tenant, pod_id=f"scale{i:06d}", image="kubesim/web:1", status=PodStatus.AVAILABLE,
                instance_id=uuid.uuid4(), start_instance_ts=now, status_changed_at=now,
                status_container={"phase": "Running", "message": "The pod is running.", "ready": True,
                                  "restart_count": 0},
                networking={"default": {"protocol": "http", "port": 5000,
                                        "url": f"scale{i:06d}.pods.bench.local"}},
                resources={"cpu_request": 10, "cpu_limit": 10, "mem_request": 1, "mem_limit": 1})
            for i in range(start, min(count, start + 10_000))], batch_size=2000)
        PodPermission.objects.bulk_create(
            [PodPermission(pod=p, username=USER, level=PermissionLevel.ADMIN) for p in pods], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pods_pod")
        cursor.execute("ANALYZE pods_podpermission")


def create_objects(base: str, tenant) -> None:
    """Every pod's Service and Pod, built by the spawner's own manifest functions. The pods
    differ only by identity, so the derived spec of the first is reused with each one's name,
    id, uid and instance (deriving costs queries per pod; the manifests are the spawner's)."""
    from dataclasses import replace

    from workers.kube.manifests import pod_manifest, service_manifest
    from workers.spec import pod_spec_for

    batch = {"services": [], "pods": []}
    template = None

    def flush():
        for resource in ("services", "pods"):
            if batch[resource]:
                answer = requests.post(f"{base}/_kubesim/bulk", json={
                    "resource": resource, "namespace": "default", "items": batch[resource]}, timeout=600).json()
                if answer.get("error_count"):
                    raise RuntimeError(f"kubesim refused {resource}: {answer['errors'][:3]}")
                batch[resource] = []

    for pod in Pod.objects.filter(tenant=tenant).select_related("tenant").iterator(chunk_size=2000):
        template = template or pod_spec_for(pod)
        spec = replace(template, name=pod.k8_name, pod_id=pod.pod_id, pod_uid=str(pod.uid),
                       instance_id=str(pod.instance_id))
        batch["services"].append(service_manifest(spec))
        batch["pods"].append(pod_manifest(spec))
        if len(batch["pods"]) >= BULK:
            flush()
    flush()


class QueryCounter:
    """Counts the SQL statements each thread runs, on every connection opened from now on."""

    def __init__(self):
        self.counts, self.lock = {}, threading.Lock()
        connection_created.connect(self._install, weak=False)

    def _install(self, sender, connection, **kwargs):
        connection.execute_wrappers.append(self)

    def __call__(self, execute, sql, params, many, context):
        name = threading.current_thread().name
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
        return execute(sql, params, many, context)

    def of(self, name: str) -> int:
        return self.counts.get(name, 0)


def drop_queue() -> None:
    """The reconciles the informer asked for (nobody consumes this bench's queue)."""
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete(settings.CELERY_TASK_DEFAULT_QUEUE)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def measure_resync(n, rounds, base, counter, results):
    from workers.sweep import sweep

    warm = sweep()
    print(f"warm-up sweep: {warm.transitions} transitions, {warm.container_updates} updates", file=sys.stderr)
    times, sent, queries = [], [], []
    for _ in range(rounds):
        before = counter.of("MainThread")
        t0 = time.perf_counter()
        report = sweep()
        times.append(time.perf_counter() - t0)
        sent.append(report.kube_requests)
        queries.append(counter.of("MainThread") - before)
        if report.transitions:
            print(f"warning: resync not in a steady state ({report.transitions} transitions)", file=sys.stderr)
    out({"bench": "resync", "pods": n, "seconds": round(statistics.median(times), 3),
         "seconds_max": round(max(times), 3), "kube_requests": max(sent), "db_queries": max(queries)}, results)


def measure_informer(n, args, base, tenant, api, counter, results):
    from workers.watch import watch_forever

    settings.PODS_SWEEP_SECONDS = args.interval
    informers, stop = [], threading.Event()
    started = time.perf_counter()
    thread = threading.Thread(target=watch_forever, kwargs={"stop": stop, "on_start": informers.append},
                              name="informer-applier", daemon=True)
    thread.start()
    try:
        while not (informers and informers[-1].synced() and informers[-1].passes):
            if time.perf_counter() - started > 600:
                raise RuntimeError("the informer did not sync within 600 s")
            time.sleep(0.01)
        informer = informers[-1]
        synced = time.perf_counter() - started
        out({"bench": "informer_sync", "pods": n, "seconds": round(synced, 3), "planned": informer.applied,
             "mirror_mib": round(informer.mirror.memory_bytes() / 2**20, 1), **informer.mirror.counts()}, results)

        # The informer's own full resync: every row planned from the mirror, no list.
        times = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            planned = informer.resync()
            times.append(time.perf_counter() - t0)
        out({"bench": "informer_resync", "pods": n, "planned": planned, "seconds": round(statistics.median(times), 3),
             "seconds_max": round(max(times), 3), "kube_requests": 0}, results)

        # Steady state: nothing changes; what does the informer cost per interval?
        time.sleep(max(1.0, args.interval * 1.5))  # let the first pass's timer tick go by
        requests.delete(f"{base}/_kubesim/journal", timeout=30)
        queries_before = counter.of("informer-applier")
        t0 = time.perf_counter()
        time.sleep(args.steady_seconds)
        elapsed = time.perf_counter() - t0
        journal = requests.get(f"{base}/_kubesim/journal", timeout=30).json()["entries"]
        intervals = elapsed / args.interval
        queries = counter.of("informer-applier") - queries_before
        out({"bench": "steady_state", "pods": n, "seconds": round(elapsed, 1), "interval_seconds": args.interval,
             "kube_requests": len(journal), "kube_requests_per_interval": round(len(journal) / intervals, 2),
             "db_queries": queries, "db_queries_per_interval": round(queries / intervals, 2)}, results)

        # A change in the cluster → visible through the API.
        from workers.kube import api as kube

        pods = list(Pod.objects.filter(tenant=tenant).order_by("?").values_list("pod_id", "tenant__site_id")[
            :args.changes])
        latencies = []
        for pod_id, site in pods:
            name = Pod(tenant=tenant, pod_id=pod_id).k8_name
            kube.delete("pod", name, grace_seconds=0)
            changed = time.perf_counter()
            while time.perf_counter() - changed < 10:
                if api.get(f"/v3/pods/{pod_id}").json()["result"]["status"] != "AVAILABLE":
                    latencies.append(time.perf_counter() - changed)
                    break
                time.sleep(0.005)
            else:
                print(f"warning: {pod_id} still AVAILABLE 10 s after its Pod was deleted", file=sys.stderr)
        if latencies:
            q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [latencies[0]] * 99
            out({"bench": "change_to_api", "pods": n, "changes": len(latencies), "p50_ms": ms(q[49]),
                 "p95_ms": ms(q[94]), "max_ms": ms(max(latencies))}, results)
    finally:
        stop.set()
        thread.join(30)


def timed_get(client, path, **headers):
    t0 = time.perf_counter()
    response = client.get(path, **headers)
    return response, time.perf_counter() - t0


def measure_api(n, tenant, counter, results):
    from workers import traefik

    traefik.clear_cache()
    proxy = Client()
    first, cold = timed_get(proxy, "/traefik-config")
    assert first.status_code == 200, first.status_code
    again, warm = timed_get(proxy, "/traefik-config")
    cached, not_modified = timed_get(proxy, "/traefik-config", HTTP_IF_NONE_MATCH=first["ETag"])
    assert cached.status_code == 304, cached.status_code
    routers = len(orjson.loads(first.content)["http"]["routers"])
    out({"bench": "traefik_config", "pods": n, "routers": routers, "render_ms": ms(cold), "bytes": len(first.content),
         "cached_ms": ms(warm), "not_modified_ms": ms(not_modified)}, results)

    token = dev_token(tenant=tenant, username=USER, ttl=3600)
    user = Client(HTTP_X_TAPIS_TOKEN=token)
    admin = Client(HTTP_X_TAPIS_TOKEN=dev_token(tenant=tenant, username="scaleadmin", ttl=3600),
                   HTTP_X_PODS_ADMIN="true")
    figures = {}
    for label, client, path in (("user_ms", user, "/v3/pods"), ("admin_mode_ms", admin, "/v3/pods"),
                                ("page_ms", user, f"/v3/pods?limit=100&skip={n // 2}")):
        response, seconds = timed_get(client, path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        figures[label] = ms(seconds)
        figures[label.replace("_ms", "_bytes")] = len(response.content)
    out({"bench": "list_pods", "pods": n, **figures}, results)

    from django.contrib.auth import get_user_model

    User = get_user_model()
    superuser = User.objects.filter(username="scale-bench-admin").first() or User.objects.create_superuser(
        "scale-bench-admin", "scale@bench.local", uuid.uuid4().hex)
    site = Client()
    site.force_login(superuser)
    timed_get(site, "/admin/pods/pod/")  # warm (templates, session)
    before = counter.of("MainThread")
    response, seconds = timed_get(site, "/admin/pods/pod/")
    assert response.status_code == 200, response.status_code
    out({"bench": "admin_changelist", "pods": n, "ms": ms(seconds), "db_queries": counter.of("MainThread") - before},
        results)


def measure_kubesim(n, proc, results):
    """The labelled list of the N Pods: ``serve_seconds`` is kubesim answering it and the body
    arriving through the client's own connection (the simulator's share), ``list_seconds`` the
    whole ``list_managed`` call as the sweep makes it (the same plus parsing the JSON and freeing
it, with the cyclic collector paused as in the sweep: resumed while 10 million fresh containers
are alive, it would traverse them in its next collections, about 2 s more at 100,000 pods)."""
    from core.gcpause import paused as gc_paused
    from workers.kube import api as kube
    from workers.kube import client as kube_client
    from workers.kube.calls import call
    from workers.kube.manifests import MANAGED_SELECTOR

    served, times = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        response = call(kube_client.core_v1().list_namespaced_pod, kube_client.namespace(),
                        label_selector=MANAGED_SELECTOR, _preload_content=False)
        size = len(response.data)
        response.release_conn()
        served.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with gc_paused():  # as the sweep takes it (workers/sweep.py), freed before the collector resumes
            items = kube.list_managed("pod")["items"]
            count = len(items)
            del items
        times.append(time.perf_counter() - t0)
    assert count == n, (count, n)
    rss, peak = rss_mib(proc.pid)
    out({"bench": "kubesim", "pods": n, "serve_seconds": round(statistics.median(served), 3),
         "list_seconds": round(statistics.median(times), 3), "list_mib": round(size / 2**20, 1),
         "rss_mib": round(rss, 1), "peak_rss_mib": round(peak, 1)}, results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--steady-seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.pods.split(",")]

    from workers.kube import client as kube_client

    counter = QueryCounter()  # before any connection opens
    tenant = prepare_database()
    Tenant.objects.filter(pk=tenant.pk).update(admins=["scaleadmin"])
    tenant.refresh_from_db()
    results = []
    api = Client(HTTP_X_TAPIS_TOKEN=dev_token(tenant=tenant, username=USER, ttl=3600))
    for n in sizes:
        with TemporaryDirectory() as tmp:
            # /12 ranges: a /16 (kubesim's default, as kubeadm's) holds 65,534 Services or Pods.
            proc, kubeconfig = start_kubesim(Path(tmp), n, "--pod-cidr", "10.0.0.0/12",
                                             "--service-cidr", "10.96.0.0/12")
            try:
                settings.PODS_KUBECONFIG = str(kubeconfig)
                settings.PODS_KUBE_NAMESPACE = "default"
                settings.PODS_KUBE_REQUEST_TIMEOUT = 300
                kube_client.reset_client()
                base = kube_client.api_client().configuration.host
                t0 = time.perf_counter()
                seed(tenant, n)
                print(f"seeded {n} rows in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
                t0 = time.perf_counter()
                create_objects(base, tenant)
                requests.post(f"{base}/_kubesim/settle", json={"max_seconds": 300}, timeout=900)
                print(f"created and ran {n} Pods and Services in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
                measure_kubesim(n, proc, results)
                measure_resync(n, args.rounds, base, counter, results)
                measure_api(n, tenant, counter, results)
                measure_informer(n, args, base, tenant, api, counter, results)
            finally:
                proc.terminate()
                proc.wait(30)
                Pod.objects.filter(tenant=tenant).delete()
                drop_queue()
    for line in results:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
