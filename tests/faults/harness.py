"""The fault harness: the whole service as `make run` runs it, on private Redis and Postgres
instances a test may kill and restart at will (never the machine's shared ones).

    pg = PrivatePostgres(tmp / "pg"); redis = PrivateRedis(tmp / "redis"); sim = Kubesim(tmp)
    stack = Stack(tmp, pg, redis, sim).start()      # migrate, seed, then scripts/supervise.py
    stack.api.create("p1"); stack.kill("worker"); redis.kill(); redis.start(empty=True) ...
    check_invariants(stack)

Every process (web under granian, worker, sweeper, bulk, beat, watcher) runs under
scripts/supervise.py from a Procfile written here, so a killed process is restarted by the same
supervisor `make run` uses. Nothing here mocks anything: real Redis, Postgres, Celery, granian,
kubesim driven by the real kubernetes client.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tempfile
import uuid
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.web_server import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PY = sys.executable
IN_FLIGHT = ("REQUESTED", "SPAWNER SETUP", "CREATING", "DELETING")
MANAGED_SELECTOR = "app.kubernetes.io/managed-by=pods-service"


def wait_for(predicate, timeout, what, interval=0.25, describe=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as exc:  # noqa: BLE001 - keep polling while a component comes back
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    detail = f"; {describe()}" if describe else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r}){detail}")


class PrivateRedis:
    """redis-server on a port of its own, append-only file in its own directory (as compose)."""

    def __init__(self, directory: Path, port: int | None = None):
        self.dir, self.port = Path(directory), port or free_port()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, empty=False):
        if empty:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir.mkdir(parents=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            stdout=open(self.dir.parent / f"redis-{self.port}.log", "ab"), stderr=subprocess.STDOUT)
        wait_for(self.ping, 10, "private redis")
        return self

    def ping(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()

    def kill(self):
        """SIGKILL: what a crash or an OOM kill does (the last second of writes may be lost)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    stop = kill


class PrivatePostgres:
    """A Postgres cluster of its own (initdb in a temporary directory), trust auth, loopback only."""

    def __init__(self, directory: Path, port: int | None = None):
        self.dir, self.port = Path(directory), port or free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/pods"
        self._as_postgres = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]

    def init(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run([*self._as_postgres, str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
                        "--auth", "trust", "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        return self.start()

    def _ctl(self, *args, check=True):
        return subprocess.run([*self._as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), *args],
                              check=check, capture_output=True)

    def start(self):
        self._ctl("-l", str(self.dir / "postgres.log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                  "start")
        return self

    def stop(self, mode="immediate"):
        """``immediate``: every backend dies at once, like a crash (recovery on the next start)."""
        self._ctl("-m", mode, "-w", "stop", check=False)

    def createdb(self):
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE pods")

    def query(self, sql, *params):
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/pods", connect_timeout=3) as conn:
            return conn.execute(sql, params).fetchall()


class Kubesim:
    """kubesim as its own process (wall clock, sped up), as `make run` starts it."""

    def __init__(self, directory: Path, speed=20):
        self.dir, self.port, self.speed = Path(directory), free_port(), speed
        self.kubeconfig = self.dir / "kubesim.kubeconfig"
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [PY, "-m", "kubesim", "--host", "127.0.0.1", "--port", str(self.port), "--kubeconfig",
             str(self.kubeconfig), "--token", "faults", "--speed", str(self.speed),
             # A node big enough for a campaign's thousands of pods (the default one fits 16; one
             # of 2000 CPUs was full at 8,000 pods once the API got faster).
             "--node-cpu", "100000", "--node-memory", "400000Gi", "--node-pods", "1000000"],
            cwd=ROOT, stdout=open(self.dir / "kubesim.log", "ab"), stderr=subprocess.STDOUT)
        wait_for(lambda: requests.get(f"{self.url}/_kubesim/health", timeout=1).ok, 20, "kubesim")
        return self

    def outage(self) -> int:
        """Every API connection dropped (control API excepted) until :meth:`heal`."""
        r = requests.post(f"{self.url}/_kubesim/faults", json={"drop": "before"}, timeout=5)
        r.raise_for_status()
        return r.json()

    def heal(self):
        requests.delete(f"{self.url}/_kubesim/faults", timeout=5).raise_for_status()

    def managed_pods(self):
        """Managed Pods as the real kubernetes client lists them (terminating ones excluded)."""
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=str(self.kubeconfig))
        try:
            items = client.CoreV1Api(api).list_namespaced_pod("default", label_selector=MANAGED_SELECTOR).items
        finally:
            api.close()
        return [p for p in items if not p.metadata.deletion_timestamp]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


# Fast cadences so a campaign runs in minutes; the logic is the production one.
FAST = {
    "PODS_SWEEP_SECONDS": "1",
    "PODS_LOG_COLLECT_SECONDS": "1",
    "PODS_REDRIVE_SECONDS": "60",
    "PODS_REDRIVE_IDLE_SECONDS": "4",
    "PODS_ORPHAN_GRACE_SECONDS": "5",
    "PODS_STOP_GRACE_SECONDS": "1",
    "PODS_KUBE_BACKOFF_MAX": "0.5",
    "PODS_HEARTBEAT_SECONDS": "1",
    "PODS_HEARTBEAT_TTL": "4",
    "PODS_CLUSTER_HEALTH_STALE_SECONDS": "6",
}


class Stack:
    """web, worker, sweeper, bulk, beat and watcher under scripts/supervise.py."""

    PROCESSES = ("web", "worker", "sweeper", "bulk", "beat", "watcher")

    def __init__(self, directory: Path, pg: PrivatePostgres, redis: PrivateRedis, sim: Kubesim, *,
                 web_workers=2, web_threads=4, extra_env=None, processes=PROCESSES, beats=1):
        self.dir, self.pg, self.redis, self.sim = Path(directory), pg, redis, sim
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.queue = f"faults-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pods_project.settings", "DATABASE_URL": pg.url,
                    "REDIS_URL": redis.url, "KUBECONFIG": str(sim.kubeconfig), "CELERY_TASK_DEFAULT_QUEUE": self.queue,
                    "PODS_REDIS_PREFIX": self.queue, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO",
                    "DATABASE_CONN_MAX_AGE": "60", **FAST, **(extra_env or {})}
        for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "PODS_SWEEP_QUEUE", "PODS_BULK_QUEUE"):
            self.env.pop(name, None)
        q = self.queue
        celery = f"{PY} -m celery -A pods_project"
        flags = "--without-gossip --without-mingle --without-heartbeat --loglevel INFO"
        commands = {
            "web": f"{PY} -m pods_project.serve --host 127.0.0.1 --port {self.port} --workers {web_workers} "
                   f"--threads {web_threads}",
            "worker": f"{celery} worker --pool threads --concurrency 8 -Q {q} -n worker-{q}@%h {flags}",
            "sweeper": f"{celery} worker --concurrency 1 -Q {q}.sweep -n sweeper-{q}@%h {flags}",
            "bulk": f"{celery} worker --concurrency 2 -Q {q}.bulk -n bulk-{q}@%h {flags}",
            "watcher": f"{PY} manage.py watch_cluster",
        }
        for n in range(beats):
            commands["beat" if n == 0 else f"beat{n + 1}"] = \
                f"{celery} beat --loglevel INFO --schedule {self.dir}/beat-schedule-{n}"
        self.names = [n for n in commands if n in processes or (n.startswith("beat") and "beat" in processes)]
        self.procfile = self.dir / "Procfile"
        self.procfile.write_text("".join(f"{n}: {commands[n]}\n" for n in self.names))
        self.log = self.dir / "supervise.log"
        self.proc = None
        self.token = None

    def manage(self, *args) -> str:
        out = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True,
                             text=True, timeout=300)
        return out.stdout

    def prepare(self):
        self.pg.createdb()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("bootstrap_dev")
        self.token = self.manage("dev_token", "--tenant", "dev", "--username", "alice", "--ttl", "86400").strip()
        return self

    def start(self):
        self.proc = subprocess.Popen([PY, "scripts/supervise.py", "-f", str(self.procfile), "--stop-timeout", "10"],
                                     cwd=ROOT, env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_for(lambda: requests.get(f"{self.url}/healthcheck", timeout=2).status_code == 200, 60, "web up")
        wait_for(lambda: self.health()["metadata"]["kubernetes"] == "reachable", 60, "first sweep")
        wait_for(lambda: isinstance(self.health()["metadata"]["workers"], dict)
                 and self.health()["metadata"]["workers"]["alive"] >= 3, 60, "three workers' heartbeats")
        return self

    def health(self) -> dict:
        return requests.get(f"{self.url}/healthcheck", timeout=5).json()

    def pids(self) -> dict:
        """The latest pid the supervisor started for each process."""
        found = {}
        for line in self.log.read_text(errors="replace").splitlines():
            m = re.search(r" (\S+)\s+\| started with pid (\d+)$", line)
            if m:
                found[m.group(1)] = int(m.group(2))
        return found

    def kill(self, name, sig=signal.SIGKILL):
        """Kill one process (the supervisor restarts it); returns the pid killed."""
        pid = self.pids()[name]
        os.killpg(pid, sig)
        return pid

    def restarts(self, name) -> int:
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if re.search(rf" {re.escape(name)}\s+\| exited with code", line))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    # --- the API, as a client sees it --------------------------------------------------------------

    def session(self):
        s = requests.Session()
        s.headers.update({"X-Tapis-Token": self.token, "Content-Type": "application/json"})
        return s

    def rows(self) -> dict:
        """pod_id -> (status, status_requested, uid, instance_id), read from the database."""
        return {pod_id: (status, wants, str(uid), str(instance) if instance else None)
                for pod_id, status, wants, uid, instance in
                self.pg.query("SELECT pod_id, status, status_requested, uid, instance_id FROM pods_pod")}


@contextmanager
def private_stack(base: Path, name: str, **stack_options):
    """A whole stack on private Postgres, Redis and kubesim, started, then torn down (logs kept
    in ``base``). Postgres runs as the postgres user, who cannot enter pytest's private
    temporary directory, so its data lives in a directory of its own."""
    pg_dir = Path(tempfile.mkdtemp(prefix=f"pods-{name}-pg-"))
    pg, redis, sim = PrivatePostgres(pg_dir).init(), PrivateRedis(base / "redis").start(), Kubesim(base).start()
    stack = Stack(base, pg, redis, sim, **stack_options)
    try:
        stack.prepare().start()
        yield stack
    finally:
        stack.stop()
        sim.stop()
        redis.kill()
        pg.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)
        print(f"\n{name} stack logs: {base}")


class Load:
    """N client threads doing a create/get/list mix, recording every response (op, code, seconds, at)."""

    def __init__(self, stack: Stack, clients=8, prefix="l", pause=0.05):
        self.stack, self.clients, self.prefix, self.pause = stack, clients, prefix, pause
        self.records, self.created = [], []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = []

    def _one(self, session, op, method, path, body=None):
        started = time.monotonic()
        try:
            r = session.request(method, self.stack.url + path, data=json.dumps(body) if body else None, timeout=30)
            code = r.status_code
        except requests.RequestException as exc:
            code = f"{type(exc).__name__}"
        with self._lock:
            self.records.append((op, code, time.monotonic() - started, time.time()))
        return code

    def _client(self, n):
        session = self.stack.session()
        i = 0
        while not self._stop.is_set():
            i += 1
            pod_id = f"{self.prefix}{n}x{i}"
            if self._one(session, "create", "POST", "/v3/pods", {"pod_id": pod_id, "image": "kubesim/web:1"}) == 200:
                with self._lock:
                    self.created.append(pod_id)
            self._one(session, "get", "GET", f"/v3/pods/{pod_id}")
            self._one(session, "list", "GET", "/v3/pods")
            self._stop.wait(self.pause)

    def start(self):
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.clients)]
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def codes(self, since=None, until=None) -> dict:
        counts = defaultdict(int)
        for op, code, _, at in self.records:
            if (since is None or at >= since) and (until is None or at <= until):
                counts[(op, code)] += 1
        return dict(counts)

    def slowest(self, since=None, until=None, op=None) -> float:
        return max((s for o, _, s, at in self.records
                    if (since is None or at >= since) and (until is None or at <= until) and (op is None or o == op)),
                   default=0.0)


def settle(stack: Stack, timeout=120):
    """Wait until nothing is in flight (no pod starting or stopping)."""
    return wait_for(lambda: not [p for p, row in stack.rows().items() if row[0] in IN_FLIGHT], timeout,
                    "every pod out of flight", interval=1)


def invariant_problems(stack: Stack) -> list:
    """What breaks the invariants right now (empty: all hold):

    every AVAILABLE pod has exactly one live Kubernetes pod, of its current instance; no live
    managed Kubernetes pod belongs to no live run (orphan).
    """
    rows = stack.rows()
    by_uid = defaultdict(list)
    for kpod in stack.sim.managed_pods():
        labels = kpod.metadata.labels or {}
        by_uid[labels.get("pods-service/pod-uid")].append((labels.get("pods-service/instance"), kpod.metadata.name))
    problems = []
    live_uids = {}
    for pod_id, (status, _, uid, instance) in rows.items():
        if status not in ("STOPPED",):
            live_uids[uid] = instance
        if status == "AVAILABLE":
            mine = [name for kinstance, name in by_uid.get(uid, []) if kinstance == instance]
            if len(mine) != 1:
                problems.append(f"{pod_id} is AVAILABLE with {len(mine)} Kubernetes pods of its instance")
    for uid, kpods in by_uid.items():
        if uid not in live_uids:
            problems.append(f"orphan: {[n for _, n in kpods]} (no live pod row)")
        else:
            stale = [n for kinstance, n in kpods if kinstance != live_uids[uid]]
            if stale:
                problems.append(f"orphan of an older run: {stale}")
    return problems

