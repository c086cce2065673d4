"""Benchmark kubesim at scale through the real ``kubernetes`` client.

Starts ``python -m kubesim`` as a subprocess (so its memory is measured on its
own), creates N pods in one namespace with a thread pool, then measures:

* ``kubesim_create``  - wall time to create the pods;
* ``kubesim_list``    - a label-selected list of all N pods (``_preload_content=False``,
  parsed with orjson), median of several runs; ``transfer_seconds`` is the part
  until the last byte arrived (the rest is the client parsing JSON);
* ``kubesim_list_selective`` - a label selector matching 1 % of the pods;
* ``kubesim_watch``   - receiving N ADDED events from ``resourceVersion=0``;
* ``kubesim_watch_latency`` - change-to-event delay for a single new pod (median);
* ``kubesim_rss``     - resident memory of the kubesim process (and its peak).

The last lines of output are one JSON object per measurement, e.g.
``{"bench": "kubesim_list", "pods": 10000, "seconds": 0.41}``.

Usage: ``python bench/kubesim_bench.py [--pods 10000] [--threads 16]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from kubernetes import client, config

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "bench"


def start_kubesim(workdir: Path, pods: int, *extra: str) -> tuple[subprocess.Popen, Path]:
    """Launch kubesim on a free port (``extra``: more CLI options); wait for its kubeconfig."""
    kubeconfig = workdir / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesim", "--port", "0", "--kubeconfig", str(kubeconfig),
         "--node-pods", str(pods * 2), "--node-cpu", "1000", "--node-memory", "4Ti",
         "--log-level", "WARNING", *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not kubeconfig.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("kubesim did not start: " + proc.stderr.read().decode())
        time.sleep(0.05)
    return proc, kubeconfig


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def pod_body(i: int) -> dict:
    return {"metadata": {"name": f"pod-{i:05d}",
                         "labels": {"app": "bench", "shard": str(i % 100)}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27",
                                     "resources": {"requests": {"cpu": "10m",
                                                                "memory": "16Mi"}}}]}}


def create_pods(core: client.CoreV1Api, count: int, threads: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(lambda i: core.create_namespaced_pod(NAMESPACE, pod_body(i)),
                          range(count)):
            pass
    return time.perf_counter() - started


def timed_list(core: client.CoreV1Api, selector: str) -> tuple[float, int, float, int]:
    """(seconds incl. parsing, items, seconds to the last byte, body bytes)."""
    started = time.perf_counter()
    response = core.list_namespaced_pod(NAMESPACE, label_selector=selector,
                                        _preload_content=False)
    body = response.data
    received = time.perf_counter()
    items = orjson.loads(body)["items"]
    return time.perf_counter() - started, len(items), received - started, len(body)


def timed_watch_all(core: client.CoreV1Api, expected: int) -> float:
    started = time.perf_counter()
    response = core.list_namespaced_pod(NAMESPACE, watch=True, resource_version="0",
                                        timeout_seconds=120, _preload_content=False)
    seen, buffer = 0, b""
    for chunk in response.stream(1 << 16):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line and orjson.loads(line)["type"] == "ADDED":
                seen += 1
        if seen >= expected:
            break
    elapsed = time.perf_counter() - started
    response.release_conn()
    if seen < expected:
        raise RuntimeError(f"watch delivered {seen} of {expected} ADDED events")
    return elapsed


def watch_latency(core: client.CoreV1Api, rounds: int = 5) -> float:
    delays = []
    for i in range(rounds):
        rv = core.list_namespaced_pod(NAMESPACE, limit=1).metadata.resource_version
        name = f"latency-{i}"
        arrived = threading.Event()
        created_at: list[float] = []
        received_at: list[float] = []

        def watcher():
            response = core.list_namespaced_pod(NAMESPACE, watch=True, resource_version=rv,
                                                field_selector=f"metadata.name={name}",
                                                timeout_seconds=30, _preload_content=False)
            for line in response.stream(1 << 16):
                if b'"ADDED"' in line:
                    received_at.append(time.perf_counter())
                    break
            response.release_conn()
            arrived.set()

        thread = threading.Thread(target=watcher, daemon=True)
        thread.start()
        time.sleep(0.2)  # let the watch connect
        created_at.append(time.perf_counter())
        core.create_namespaced_pod(NAMESPACE, {"metadata": {"name": name}, "spec": {
            "containers": [{"name": "main", "image": "nginx:1.27"}]}})
        arrived.wait(30)
        delays.append(received_at[0] - created_at[0])
    return statistics.median(delays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5, help="list repetitions (median)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        proc, kubeconfig = start_kubesim(Path(tmp), args.pods)
        try:
            api = config.new_client_from_config(config_file=str(kubeconfig))
            api.rest_client.pool_manager.connection_pool_kw["maxsize"] = args.threads
            core = client.CoreV1Api(api)
            core.create_namespace({"metadata": {"name": NAMESPACE}})
            results = []
            create_s = create_pods(core, args.pods, args.threads)
            results.append({"bench": "kubesim_create", "pods": args.pods,
                            "seconds": round(create_s, 3),
                            "per_second": round(args.pods / create_s, 1)})
            print(f"created {args.pods} pods in {create_s:.2f}s", flush=True)
            runs = [timed_list(core, "app=bench") for _ in range(args.repeat)]
            assert all(count == args.pods for _, count, _, _ in runs)
            print("labelled list runs (s):", [round(r[0], 3) for r in runs], flush=True)
            results.append({"bench": "kubesim_list", "pods": args.pods, "selector": "app=bench",
                            "items": args.pods,
                            "seconds": round(statistics.median(r[0] for r in runs), 3),
                            "worst": round(max(r[0] for r in runs), 3),
                            "transfer_seconds": round(statistics.median(r[2] for r in runs), 3),
                            "mib": round(runs[0][3] / 2 ** 20, 1)})
            selective = [timed_list(core, "app=bench,shard=7") for _ in range(args.repeat)]
            results.append({"bench": "kubesim_list_selective", "pods": args.pods,
                            "selector": "app=bench,shard=7", "items": selective[0][1],
                            "seconds": round(statistics.median(r[0] for r in selective), 3)})
            watch_s = timed_watch_all(core, args.pods)
            results.append({"bench": "kubesim_watch", "pods": args.pods,
                            "events": args.pods, "seconds": round(watch_s, 3)})
            latency = watch_latency(core)
            results.append({"bench": "kubesim_watch_latency", "pods": args.pods,
                            "seconds": round(latency, 4)})
            rss, peak = rss_mib(proc.pid)
            results.append({"bench": "kubesim_rss", "pods": args.pods, "mib": round(rss),
                            "peak_mib": round(peak)})
            api.close()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
