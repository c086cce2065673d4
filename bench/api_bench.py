"""Latency of the pods API's two hottest reads against a running server.

Measures ``GET /v3/pods/{id}`` and ``GET /v3/pods`` (the user sees every seeded pod) from the
client side over one keep-alive connection, and prints one JSON line per endpoint as its last
output, e.g. ``{"bench": "get_pod", "p50_ms": 3.1, "p95_ms": 5.0, ...}``. Client-side times
include loopback HTTP and the client's own parsing, so server time is a little lower.

Typical use (the server and this script must use the same database)::

    .venv/bin/gunicorn pods_project.wsgi --bind 127.0.0.1:8765 --workers 2 &
    .venv/bin/python bench/api_bench.py --base-url http://127.0.0.1:8765 --seed 1000

``--seed N`` makes sure the bench user owns at least N pods (created through the same service
function the API uses, stopped so that no worker is woken) and mints the token itself; both need
Django settings and database access. Without it, pass ``--token``.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
    import django

    django.setup()


def seed(tenant_id: str, username: str, count: int) -> str:
    """Ensure ``username`` owns ``count`` pods named bench00000...; return a token for them."""
    setup_django()
    from pods.models import Pod
    from pods.services import pod_create
    from tenancy.identity import Principal
    from tenancy.models import Tenant
    from tenancy.services import dev_token, tenant_create

    tenant = Tenant.objects.filter(tenant_id=tenant_id).first()
    if tenant is None:
        tenant = tenant_create(tenant_id=tenant_id, pod_domain=f"{tenant_id}.bench.local", generate_key=True)
    # The bench user owns more pods than the site's default quotas allow one user.
    Tenant.objects.filter(pk=tenant.pk).update(max_pods=max(count, tenant.max_pods or 0),
                                               max_pods_per_user=max(count, tenant.max_pods_per_user or 0))
    tenant.refresh_from_db()
    principal = Principal(tenant=tenant, username=username)
    existing = set(Pod.objects.filter(tenant=tenant, pod_id__startswith="bench").values_list("pod_id", flat=True))
    started = time.perf_counter()
    made = 0
    for i in range(count):
        pod_id = f"bench{i:05d}"
        if pod_id not in existing:
            pod_create(principal=principal, data={
                "pod_id": pod_id, "image": "kubesim/happy", "status_requested": "OFF",
                "description": f"benchmark pod {i}", "environment_variables": {"INDEX": str(i)},
                "networking": {"default": {"port": 5000}, "api": {"port": 8080, "protocol": "tcp"}},
            })
            made += 1
    if made:
        print(f"seeded {made} pods in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        # Fresh planner statistics, as autovacuum would soon give a live database: without them
        # Postgres plans the permission join for an empty table (a nested loop over 1,000²).
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE pods_pod, pods_podpermission")
    return dev_token(tenant=tenant, username=username, ttl=3600)


def measure(session: requests.Session, url: str, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        session.get(url).raise_for_status()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = session.get(url)
        body = response.content
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: HTTP {response.status_code}: {body[:300]!r}")
    return times


def summary(name: str, times: list[float], **extra) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return {"bench": name, "p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2),
            "mean_ms": round(statistics.fmean(ordered), 2), "n": len(ordered), **extra}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--tenant", default="dev")
    parser.add_argument("--username", default="benchuser")
    parser.add_argument("--token", help="X-Tapis-Token to use (otherwise minted by --seed)")
    parser.add_argument("--seed", type=int, metavar="N", help="ensure N pods exist (needs DB access)")
    parser.add_argument("--requests", type=int, default=300, help="GET /v3/pods/{id} samples")
    parser.add_argument("--list-requests", type=int, default=40, help="GET /v3/pods samples")
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)

    token = args.token
    if args.seed:
        minted = seed(args.tenant, args.username, args.seed)
        token = token or minted
    if not token:
        parser.error("give --token, or --seed N to create pods and mint a token")

    session = requests.Session()
    session.headers["X-Tapis-Token"] = token
    base = args.base_url.rstrip("/")

    listing = session.get(f"{base}/v3/pods")
    listing.raise_for_status()
    pods = listing.json()["result"]
    if not pods:
        raise SystemExit("the bench user sees no pods; run with --seed 1000")
    pod_ids = [p["pod_id"] for p in pods]

    # Spread single reads over the pods (one id per request, cycling).
    for _ in range(args.warmup):
        session.get(f"{base}/v3/pods/{pod_ids[0]}").raise_for_status()
    get_times = []
    for i in range(args.requests):
        get_times.append(measure(session, f"{base}/v3/pods/{pod_ids[i % len(pod_ids)]}", 1, 0)[0])
    list_times = measure(session, f"{base}/v3/pods", args.list_requests, args.warmup)

    results = [summary("get_pod", get_times, pods=len(pod_ids)),
               summary("list_pods", list_times, pods=len(pod_ids), bytes=len(listing.content))]
    for line in results:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
