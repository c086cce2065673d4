"""The pods API's hot paths against their floor, measured in one run on one server.

Starts the web server (``python -m pods_project.serve``, the production one, plus ``--server-args``)
with ``DJANGO_SETTINGS_MODULE=bench.floor_settings``: the project's settings with ``DEBUG`` off
and two bench-only endpoints (``floor_urls.py``), the smallest authenticated DRF view returning a
constant (``floor_auth``) and the same without authentication (``floor_open``). Then it times,
from the client over keep-alive connections, interleaved round by round so that a busy moment of
a shared machine hits every endpoint alike:

- ``floor_auth``, ``floor_open``: ``GET /bench/floor``, ``GET /bench/floor-open``;
- ``get_pod``: ``GET /v3/pods/{id}``, cycling over the seeded pods;
- ``list_pods``: ``GET /v3/pods`` of a user who sees every seeded pod (1,000 by default);
- ``get_pod_logs``: ``GET /v3/pods/{id}/logs`` of a pod with a seeded log run (``--log-kb``);
- ``create_pod``: ``POST /v3/pods`` (no worker runs: the wake-up waits in a queue of the run's
  own, dropped at the end with the pods created).

Each prints one JSON line (p50, p95, mean in ms) with ``ratio`` = its p50 over ``floor_auth``'s
p50, and the issue's ``target`` ratio where it has one. Client-side times include loopback HTTP
and the client's parsing, so server time is a little lower; ratios are what compare across
machines. With ``--clients N`` each round is sent by N threads at once (each its own
connection) and ``rps`` says how many requests per second the server answered.

``--seed N`` (default 1,000) makes sure the bench user owns N stopped pods, created through the
service function the API uses, in database ``pods_bench_api`` (unless DATABASE_URL says
otherwise), created and migrated if missing. ``--base-url`` measures an already running server
instead; it must serve ``bench.floor_settings`` on the same database.
"""
import argparse
import json
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pods_bench_api")
os.environ.setdefault("PODS_REDIS_PREFIX", "pods-bench-api")
# Wake-ups sent by create_pod wait here (nobody consumes them) and are dropped at the end.
QUEUE = os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"pods-bench-api-{secrets.token_hex(4)}")
TARGETS = {"get_pod": 2, "list_pods": 10, "create_pod": 3}
CREATED_PREFIX = "benchnew"


def prepare_database():
    for command in ("ensure_database", "migrate"):
        subprocess.run([sys.executable, "manage.py", command, "--verbosity", "0"], cwd=ROOT, check=True)
    sys.path.insert(0, str(ROOT / "bench"))
    import benchenv  # noqa: F401  (sets Django up on the same database)


def seed(tenant_id: str, username: str, count: int, log_kb: int) -> str:
    """Ensure ``username`` owns ``count`` pods named bench00000...; return a token for them."""
    from django.db import connection

    from pods.models import Pod, PodLogRun
    from pods.services import pod_create
    from tenancy.identity import Principal
    from tenancy.models import Tenant
    from tenancy.services import dev_token, tenant_create

    tenant = Tenant.objects.filter(tenant_id=tenant_id).first()
    if tenant is None:
        tenant = tenant_create(tenant_id=tenant_id, pod_domain=f"{tenant_id}.bench.local", generate_key=True)
    # The bench user owns more pods than the site's default quotas allow one user, and creates more.
    Tenant.objects.filter(pk=tenant.pk).update(max_pods=max(count * 10, tenant.max_pods or 0),
                                               max_pods_per_user=max(count * 10, tenant.max_pods_per_user or 0))
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
    first = Pod.objects.get(tenant=tenant, pod_id="bench00000")
    line = "2026-01-01T00:00:00Z INFO benchmark log line, about eighty bytes long, for the logs read\n"
    text = line * max(1, log_kb * 1024 // len(line))
    run = PodLogRun.objects.filter(pod=first).first()
    if run is None or run.text != text:
        PodLogRun.objects.filter(pod=first).delete()
        import uuid

        PodLogRun.objects.create(pod=first, instance_id=uuid.uuid4(), text=text, bytes=len(text))
    # Fresh planner statistics, as autovacuum would soon give a live database: without them
    # Postgres plans the permission join for an empty table (a nested loop over 1,000²).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pods_pod, pods_podpermission")
    return dev_token(tenant=tenant, username=username, ttl=3600)


def creator(tenant_id: str, username: str) -> str:
    """A token for the user create_pod acts as (so that the list keeps its N pods)."""
    from tenancy.models import Tenant
    from tenancy.services import dev_token

    return dev_token(tenant=Tenant.objects.get(tenant_id=tenant_id), username=username, ttl=3600)


def cleanup(tenant_id: str):
    """Drop the pods create_pod made and the wake-ups nobody consumed."""
    import redis
    from django.conf import settings

    from pods.models import Pod

    deleted, _ = Pod.objects.filter(tenant__tenant_id=tenant_id, pod_id__startswith=CREATED_PREFIX).delete()
    redis.Redis.from_url(settings.REDIS_URL).delete(QUEUE)
    return deleted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(server_args: str):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.floor_settings", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "pods_project.serve", "--host", "127.0.0.1", "--port", str(port),
           *shlex.split(server_args)]
    print("starting", " ".join(cmd[2:]), file=sys.stderr)
    log = open(ROOT / ".run" / "api_bench_web.log", "wb") if (ROOT / ".run").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the web server exited with {proc.returncode}")
        try:
            requests.get(f"{base}/bench/floor-open", timeout=5)
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the web server did not answer within 60 s")


class Endpoint:
    def __init__(self, name, method, path_for, body_for=None, every=1, token=None):
        self.name, self.method, self.path_for, self.body_for, self.every = name, method, path_for, body_for, every
        self.headers = {"X-Tapis-Token": token} if token else None
        self.times: list[float] = []


def timed(session, base, endpoint, i):
    path = endpoint.path_for(i)
    body = endpoint.body_for(i) if endpoint.body_for else None
    start = time.perf_counter()
    response = session.request(endpoint.method, base + path, json=body, headers=endpoint.headers)
    content = response.content
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{endpoint.method} {path}: HTTP {response.status_code}: {content[:300]!r}")
    return elapsed, len(content)


def summary(endpoint: Endpoint, floor_p50: float | None, wall: float, clients: int, **extra) -> dict:
    ordered = sorted(endpoint.times)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    line = {"bench": endpoint.name, "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
            "mean_ms": round(statistics.fmean(ordered), 2), "n": len(ordered)}
    if floor_p50:
        line["ratio"] = round(p50 / floor_p50, 2)
    if endpoint.name in TARGETS:
        line["target"] = TARGETS[endpoint.name]
    if clients > 1:
        line["clients"] = clients
    return {**line, **extra}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="measure this running server (serving bench.floor_settings) instead")
    parser.add_argument("--server-args", default="",
                        help="flags of python -m pods_project.serve, e.g. '--workers 2 --threads 4'")
    parser.add_argument("--tenant", default="dev")
    parser.add_argument("--username", default="benchuser")
    parser.add_argument("--token", help="X-Tapis-Token to use (otherwise minted by --seed)")
    parser.add_argument("--seed", type=int, default=1000, metavar="N", help="ensure N pods exist")
    parser.add_argument("--log-kb", type=int, default=64, help="size of the log run get_pod_logs reads")
    parser.add_argument("--requests", type=int, default=300, help="rounds: one request to each fast endpoint")
    parser.add_argument("--list-every", type=int, default=8, help="GET /v3/pods once per this many rounds")
    parser.add_argument("--create-every", type=int, default=2, help="POST /v3/pods once per this many rounds")
    parser.add_argument("--clients", type=int, default=1, help="threads sending each round at once")
    parser.add_argument("--warmup", type=int, default=5, help="rounds before measuring")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    prepare_database()
    token = args.token or seed(args.tenant, args.username, args.seed, args.log_kb)
    creator_token = creator(args.tenant, f"{args.username}new")
    proc, base = (None, args.base_url.rstrip("/")) if args.base_url else start_server(args.server_args)
    run = secrets.token_hex(3)
    try:
        sessions = [requests.Session() for _ in range(max(1, args.clients))]
        for session in sessions:
            session.headers["X-Tapis-Token"] = token
        listing = sessions[0].get(f"{base}/v3/pods")
        listing.raise_for_status()
        pod_ids = [p["pod_id"] for p in listing.json()["result"] if not p["pod_id"].startswith(CREATED_PREFIX)]
        if not pod_ids:
            raise SystemExit("the bench user sees no pods")
        created = iter(range(10**9))
        endpoints = [
            Endpoint("floor_auth", "GET", lambda i: "/bench/floor"),
            Endpoint("floor_open", "GET", lambda i: "/bench/floor-open"),
            Endpoint("get_pod", "GET", lambda i: f"/v3/pods/{pod_ids[i % len(pod_ids)]}"),
            Endpoint("get_pod_logs", "GET", lambda i: f"/v3/pods/{pod_ids[0]}/logs"),
            Endpoint("create_pod", "POST", lambda i: "/v3/pods", every=args.create_every, token=creator_token,
                     body_for=lambda i: {"pod_id": f"{CREATED_PREFIX}{run}{next(created):06d}",
                                         "image": "kubesim/happy", "description": "api_bench create"}),
            Endpoint("list_pods", "GET", lambda i: "/v3/pods", every=args.list_every),
        ]
        sizes = {}

        def client(session, endpoint, i, out):
            out.append(timed(session, base, endpoint, i))

        started = time.perf_counter()
        for i in range(-args.warmup, args.requests):
            if i == 0:
                started = time.perf_counter()
            for endpoint in endpoints:
                if i % endpoint.every:
                    continue
                if len(sessions) == 1:
                    results = [timed(sessions[0], base, endpoint, i)]
                else:
                    results = []
                    threads = [threading.Thread(target=client, args=(s, endpoint, i * len(sessions) + k, results))
                               for k, s in enumerate(sessions)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                if i >= 0:
                    endpoint.times.extend(ms for ms, _ in results)
                    sizes[endpoint.name] = results[-1][1]
        wall = time.perf_counter() - started
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        print(f"dropped {cleanup(args.tenant)} rows of created pods", file=sys.stderr)

    floor = statistics.median(endpoints[0].times)
    total = sum(len(e.times) for e in endpoints)
    server = args.base_url or f"pods_project.serve {args.server_args}".strip()
    print(json.dumps({"bench": "api_server", "server": server, "pods": len(pod_ids), "clients": args.clients,
                      "rps": round(total / wall, 1)}))
    for endpoint in endpoints:
        extra = {"bytes": sizes.get(endpoint.name, 0)}
        if endpoint.name == "list_pods":
            extra["pods"] = len(pod_ids)
        print(json.dumps(summary(endpoint, floor if endpoint is not endpoints[0] else None, wall, args.clients,
                                 **extra)))


if __name__ == "__main__":
    main()
