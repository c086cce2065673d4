"""Benchmark volume file transfer through the API, snapshots and listings.

Starts kubesim (wall clock), a web process (pods_project.serve, 1 x 4 threads) and a Celery worker, both
pointed at kubesim, on the ``pods_bench_volumes`` database (unless DATABASE_URL says otherwise). Through HTTP, as a client would: creates a
volume (the worker starts the tenant's storage server), uploads a file of ``--mb`` MB
(multipart, streamed from a generator: the client holds one block), downloads it back
(streamed), takes a snapshot of the volume, and lists a directory of ``--files`` files. While
each transfer runs, the RSS of the web and worker processes is sampled every 20 ms: the peak
minus the process's RSS just before shows whether the file was held in memory (it must not be).

Last lines, one JSON object each:
``{"bench": "volume_upload", "mb": 100, "seconds": ..., "mb_per_s": ..., "web_peak_rss_mib": ..., "web_rss_growth_mib": ..., "worker_peak_rss_mib": ...}``,
the same for ``volume_download``, ``{"bench": "snapshot", "mb": 100, "seconds": ...}`` and
``{"bench": "list_volume_files", "files": 10000, "p50_ms": ..., "max_ms": ...}``.

Usage: ``python bench/volumes.py [--mb 100] [--files 10000]``
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ["CELERY_TASK_DEFAULT_QUEUE"] = "pods-bench-volumes"
# A database of its own: the other benchmarks reset the shared bench tenant's rows.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pods_bench_volumes")
os.environ.setdefault("PODS_SWEEP_SECONDS", "3600")

import requests  # noqa: E402
from benchenv import ROOT  # noqa: E402 - sets up Django on the bench database
from kubesim_bench import start_kubesim  # noqa: E402
from reconcile import prepare_database  # noqa: E402

from pods.models import Snapshot, StorageServer, Volume  # noqa: E402
from tenancy.services import dev_token  # noqa: E402

BLOCK = 1024 * 1024
BOUNDARY = "pods-bench-boundary"


class MultipartFile:
    """A multipart body with one ``file`` part of ``size`` bytes, generated block by block."""

    def __init__(self, size: int):
        self.size = size
        self.head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.block = bytes(range(256)) * (BLOCK // 256)

    def __len__(self):
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self):
        yield self.head
        left = self.size
        while left:
            n = min(left, BLOCK)
            yield self.block[:n]
            left -= n
        yield self.tail


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


class Sampler:
    """Peak RSS of some processes while a block runs."""

    def __init__(self, pids: dict):
        self.pids, self.peak, self.before, self._stop = pids, {}, {}, threading.Event()

    def __enter__(self):
        self.before = {name: max(rss_mib(p) for p in pids) for name, pids in self.pids.items()}
        self.peak = dict(self.before)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            for name, pids in self.pids.items():
                self.peak[name] = max(self.peak[name], max(rss_mib(p) for p in pids))
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict:
        out = {}
        for name in self.pids:
            out[f"{name}_peak_rss_mib"] = round(self.peak[name], 1)
            out[f"{name}_rss_growth_mib"] = round(self.peak[name] - self.before[name], 1)
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, env, log):
    with open(log, "wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="size of the file uploaded, downloaded and snapshotted")
    parser.add_argument("--files", type=int, default=10000, help="files in the listed directory")
    parser.add_argument("--list-requests", type=int, default=5, help="timed list_volume_files calls")
    args = parser.parse_args(argv)

    tenant = prepare_database()
    Snapshot.objects.filter(tenant=tenant).delete()
    Volume.objects.filter(tenant=tenant).delete()
    StorageServer.objects.filter(tenant=tenant).delete()
    token = dev_token(tenant=tenant, username="bench", ttl=3600)
    session = requests.Session()
    session.headers["X-Tapis-Token"] = token
    with TemporaryDirectory() as tmp:
        sim, kubeconfig = start_kubesim(Path(tmp), 10, "--fs-budget", f"{args.mb * 4 + 512}Mi")
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PODS_STORAGE_TENANT_QUOTA_MB": str(args.mb * 4 + 100),
               "PODS_STORAGE_WAIT_SECONDS": "60"}
        port = free_port()
        web = start([sys.executable, "-m", "pods_project.serve", "--host", "127.0.0.1", "--port", str(port),
                     "--workers", "1", "--threads", "4"], env, Path(tmp) / "web.log")
        worker = start([sys.executable, "-m", "celery", "-A", "pods_project", "worker", "--pool", "solo",
                        "-Q", "pods-bench-volumes", "--loglevel", "WARNING", "--without-heartbeat",
                        "--without-gossip", "--without-mingle", "-n", "benchvol@%h"], env, Path(tmp) / "worker.log")
        base = f"http://127.0.0.1:{port}/v3/pods"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    session.get(f"{base}/volumes", timeout=2)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            time.sleep(2)  # the worker connects
            web_pids = children(web.pid) or [web.pid]
            pids = {"web": web_pids, "worker": [worker.pid]}
            print("creating the volume (the worker starts the storage server)", file=sys.stderr)
            r = session.post(f"{base}/volumes", json={"volume_id": "bench", "size_limit": args.mb * 3})
            assert r.status_code == 200, r.text
            results = []

            body = MultipartFile(args.mb * BLOCK)
            with Sampler(pids) as sampler:
                started = time.perf_counter()
                r = session.post(f"{base}/volumes/bench/upload/big.bin", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, timeout=900)
                seconds = time.perf_counter() - started
            assert r.status_code == 200, r.text
            results.append({"bench": "volume_upload", "mb": args.mb, "seconds": round(seconds, 2),
                            "mb_per_s": round(args.mb / seconds, 1), **sampler.figures()})

            with Sampler(pids) as sampler:
                started = time.perf_counter()
                got = 0
                with session.get(f"{base}/volumes/bench/contents/big.bin", stream=True, timeout=900) as r:
                    assert r.status_code == 200, r.text
                    for chunk in r.iter_content(BLOCK):
                        got += len(chunk)
                seconds = time.perf_counter() - started
            assert got == args.mb * BLOCK, got
            results.append({"bench": "volume_download", "mb": args.mb, "seconds": round(seconds, 2),
                            "mb_per_s": round(args.mb / seconds, 1), **sampler.figures()})

            started = time.perf_counter()
            r = session.post(f"{base}/snapshots", json={"snapshot_id": "benchsnap", "source_volume_id": "bench",
                                                        "source_volume_path": "/", "size_limit": args.mb * 2})
            seconds = time.perf_counter() - started
            assert r.status_code == 200, r.text
            results.append({"bench": "snapshot", "mb": args.mb, "seconds": round(seconds, 3)})

            from workers.kube import client as kube_client
            from workers.kube import exec as kube_exec
            from workers.kube.manifests import storage_server_name

            os.environ["KUBECONFIG"] = str(kubeconfig)
            from django.conf import settings

            settings.PODS_KUBECONFIG = str(kubeconfig)
            kube_client.reset_client()
            uid = Volume.objects.get(tenant=tenant, volume_id="bench").uid
            print(f"creating {args.files} files", file=sys.stderr)
            script = f'mkdir -p "$1" && cd "$1" && seq 1 {args.files} | sed "s/^/file-/" | xargs touch'
            out, err, code, _ = kube_exec.run(storage_server_name(tenant.site_id, tenant.tenant_id),
                                              ["sh", "-c", script, "sh", f"/exports/volumes/{uid}/many"], timeout=600)
            assert code == 0, err
            times = []
            for _ in range(args.list_requests):
                started = time.perf_counter()
                r = session.get(f"{base}/volumes/bench/list", params={"path": "many"}, timeout=120)
                times.append((time.perf_counter() - started) * 1000)
                assert r.status_code == 200 and len(r.json()["result"]) == args.files, r.text[:300]
            results.append({"bench": "list_volume_files", "files": args.files,
                            "p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)})
        finally:
            for proc in (web, worker, sim):
                proc.terminate()
            for proc in (web, worker, sim):
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    for line in results:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
