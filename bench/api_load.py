"""Throughput and latency of the pods API under concurrent clients, against a running `make run`.

Two phases, each by ``--clients`` threads (one keep-alive session each, one user each so the
per-user quota never interferes):

1. **burst**: ``--creates`` pods created as fast as the clients can (``POST /v3/pods``):
   creates per second over the phase, p50/p95 per request.
2. **mixed**: for ``--seconds``, every client loops over create / get / list / delete in the
   ratio ``--mix`` (default ``1:6:2:1``), on its own pods: throughput and p50/p95 per operation.

Then every pod it created is deleted. Prints one JSON line per phase and operation as its last
output, e.g. ``{"bench": "api_load", "phase": "burst", "op": "create", "per_s": 41.0, ...}``,
with the count of non-2xx answers (``errors``; a 5xx is also in ``server_errors``). Times are
client-side (loopback HTTP included). The worker, beat and watcher of ``make run`` keep running
meanwhile, as they would in production: the pods created are really spawned (in kubesim).

    make run &                                   # the whole stack
    .venv/bin/python bench/api_load.py --clients 32 --creates 200 --seconds 20

The tokens are minted for the ``--tenant`` (default ``dev``) from its stored key, so the script
needs the same ``DATABASE_URL`` as the server (the default one of `make run`); its users are
``load-<run>-<n>``, whose pods are named ``ld<run>n<n>x<i>``.
"""
import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def tokens(tenant_id: str, usernames: list) -> list:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
    import django

    django.setup()
    from tenancy.models import Tenant
    from tenancy.services import dev_token

    tenant = Tenant.objects.get(tenant_id=tenant_id)
    return [dev_token(tenant=tenant, username=u, ttl=3600) for u in usernames]


class Client(threading.Thread):
    """One keep-alive connection (``http.client``, which costs the shared two cores about a third
    of what ``requests`` does per call: the load generator runs on the machine it measures)."""

    def __init__(self, n, base, token, stats, lock, run_id):
        super().__init__(daemon=True)
        self.run_id = run_id
        self.n, self.stats, self.lock = n, stats, lock
        url = urlsplit(base)
        self.host, self.port, self.prefix = url.hostname, url.port or 80, url.path.rstrip("/")
        self.headers = {"X-Tapis-Token": token, "Content-Type": "application/json"}
        self.conn = None
        self.pods, self.i = [], 0
        self.work = None

    def request(self, method, path, body=None):
        """The status code after reading the whole body; 0 if the connection failed (reopened
        on the next call)."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.conn.request(method, self.prefix + path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response.status
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return 0

    def call(self, phase, op, method, path, body=None):
        started = time.perf_counter()
        code = self.request(method, path, json.dumps(body) if body else None)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.stats[(phase, op)].append((elapsed, code))
        return code

    def create(self, phase):
        self.i += 1
        pod_id = f"ld{self.run_id}n{self.n}x{self.i}"  # the run in it: what an interrupted run left never collides
        if self.call(phase, "create", "POST", "/v3/pods", {"pod_id": pod_id, "image": "kubesim/web:1"}) == 200:
            self.pods.append(pod_id)

    def run(self):
        self.work(self)


def summarize(stats, phase, seconds):
    lines = []
    for (p, op), samples in sorted(stats.items()):
        if p != phase or not samples:
            continue
        times = sorted(s for s, _ in samples)
        q = statistics.quantiles(times, n=100) if len(times) > 1 else [times[0]] * 99
        lines.append({
            "bench": "api_load", "phase": phase, "op": op, "requests": len(samples),
            "per_s": round(len(samples) / seconds, 1), "p50_ms": round(q[49] * 1000, 1),
            "p95_ms": round(q[94] * 1000, 1), "max_ms": round(times[-1] * 1000, 1),
            "errors": sum(1 for _, c in samples if not 200 <= c < 300),
            "server_errors": sum(1 for _, c in samples if c >= 500 or c == 0),
        })
    return lines


def measure(base_url, toks, *, creates, seconds, weights, run_id, keep=False, log=print):
    """Both phases by one client per token; the summary lines (see :func:`summarize`)."""
    stats, lock = defaultdict(list), threading.Lock()
    clients = [Client(n, base_url, t, stats, lock, run_id) for n, t in enumerate(toks)]
    output = []

    # Phase 1: the burst of creates, shared out between the clients.
    remaining = iter(range(creates))
    take = threading.Lock()

    def burst(c):
        while True:
            with take:
                if next(remaining, None) is None:
                    return
            c.create("burst")

    log(f"burst: {creates} creates by {len(clients)} clients...")
    started = time.perf_counter()
    for c in clients:
        c.work = burst
        c.start()
    for c in clients:
        c.join()
    output += summarize(stats, "burst", time.perf_counter() - started)

    # Phase 2: the mixed load.
    deadline = time.monotonic() + seconds
    ops = ["create", "get", "list", "delete"]

    def mixed(c):
        rng = random.Random(c.n)
        while time.monotonic() < deadline:
            op = rng.choices(ops, weights)[0]
            if op == "create" or (op in ("get", "delete") and not c.pods):
                c.create("mixed")
            elif op == "get":
                c.call("mixed", "get", "GET", f"/v3/pods/{rng.choice(c.pods)}")
            elif op == "list":
                c.call("mixed", "list", "GET", "/v3/pods")
            else:
                pod_id = c.pods.pop(rng.randrange(len(c.pods)))
                c.call("mixed", "delete", "DELETE", f"/v3/pods/{pod_id}")

    log(f"mixed: {seconds:.0f} s of {':'.join(f'{w:g}' for w in weights)} create:get:list:delete...")
    threads = []
    for old in clients:
        c = Client(old.n, base_url, toks[old.n], stats, lock, run_id)
        c.conn, c.pods, c.i, c.work = old.conn, old.pods, old.i, mixed
        threads.append(c)
    started = time.perf_counter()
    for c in threads:
        c.start()
    for c in threads:
        c.join()
    output += summarize(stats, "mixed", time.perf_counter() - started)

    if not keep:
        log("deleting the pods created...")
        for c in threads:
            for pod_id in c.pods:
                c.call("cleanup", "delete", "DELETE", f"/v3/pods/{pod_id}")
            c.pods = []
    return output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--tenant", default="dev")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--creates", type=int, default=200, help="pods created in the burst phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the mixed phase")
    parser.add_argument("--mix", default="1:6:2:1", help="create:get:list:delete weights of the mixed phase")
    parser.add_argument("--keep", action="store_true", help="do not delete the pods at the end")
    args = parser.parse_args()
    weights = [float(w) for w in args.mix.split(":")]
    if len(weights) != 4 or min(weights) < 0 or not sum(weights):
        parser.error("--mix takes four non-negative weights, create:get:list:delete")

    run_id = uuid.uuid4().hex[:6]
    print(f"minting {args.clients} tokens for tenant {args.tenant}...", file=sys.stderr)
    toks = tokens(args.tenant, [f"load-{run_id}-{n}" for n in range(args.clients)])
    output = measure(args.base_url, toks, creates=args.creates, seconds=args.seconds, weights=weights,
                     run_id=run_id, keep=args.keep, log=lambda text: print(text, file=sys.stderr))
    for line in output:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
