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
* ``kubesim_rss``     - resident memory of the kubesim process (and its peak), measured
  before the exec benchmarks (which store data in a container);
* ``kubesim_exec``    - round trip of ``true`` through ``pods/exec`` over WebSocket with
  ``kubernetes.stream`` (new connection per call; p50 and p95);
* ``kubesim_cp``      - a 50 MB tar stream through exec: upload (``tar xf -``, stdin) and
  download (``tar cf -``, stdout), in MB/s.

The last lines of output are one JSON object per measurement, e.g.
``{"bench": "kubesim_list", "pods": 10000, "seconds": 0.41}``.

Usage: ``python bench/kubesim_bench.py [--pods 10000] [--threads 16]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tarfile
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from kubernetes import client, config
from kubernetes.stream import stream

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


def wait_running(core: client.CoreV1Api, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while core.read_namespaced_pod(name, NAMESPACE).status.phase != "Running":
        if time.monotonic() > deadline:
            raise RuntimeError(f"pod {name} is not running")
        time.sleep(0.1)


def exec_stream(core: client.CoreV1Api, pod: str, command: list[str], **kwargs):
    return stream(core.connect_get_namespaced_pod_exec, pod, NAMESPACE, command=command,
                  stderr=True, stdout=True, tty=False, _preload_content=False, **kwargs)


def exec_latency(core: client.CoreV1Api, pod: str, rounds: int) -> tuple[float, float]:
    """(p50, p95) seconds of ``true`` over exec."""
    delays = []
    for _ in range(rounds):
        started = time.perf_counter()
        resp = exec_stream(core, pod, ["true"], stdin=False)
        resp.run_forever(timeout=30)
        if resp.returncode != 0:
            raise RuntimeError("true failed")
        delays.append(time.perf_counter() - started)
    delays.sort()
    return statistics.median(delays), delays[int(len(delays) * 0.95) - 1]


def read_frames(resp) -> tuple[int, bytes]:
    """Drain an exec stream frame by frame: (stdout bytes, status channel).

    ``WSClient.update()`` joins every frame already waiting with ``bytes +=``, which is
    quadratic in the output size (a 50 MB download takes ~20 s with it, against a real
    cluster as well); streaming readers should pull frames off ``resp.sock`` like this.
    """
    received, status = 0, b""
    while True:
        opcode, frame = resp.sock.recv_data_frame(True)
        if opcode == 8:  # close
            return received, status
        data = frame.data
        if data[:1] == b"\x01":
            received += len(data) - 1
        elif data[:1] == b"\x03":
            status += data[1:]


def cp_throughput(core: client.CoreV1Api, pod: str, megabytes: int) -> tuple[float, float, int]:
    """(upload MB/s, download MB/s, archive bytes) for a tar of ``megabytes`` MB."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for i in range(5):
            info = tarfile.TarInfo(f"data/part-{i}.bin")
            info.size = megabytes * 1_000_000 // 5
            archive.addfile(info, io.BytesIO(os.urandom(info.size)))
    payload = buf.getvalue()
    chunk = 1 << 20
    started = time.perf_counter()
    resp = exec_stream(core, pod, ["tar", "xf", "-", "-C", "/tmp"], stdin=True, binary=True)
    for offset in range(0, len(payload), chunk):
        resp.write_stdin(payload[offset:offset + chunk])
    resp.close_channel(0)
    resp.run_forever(timeout=300)
    upload = time.perf_counter() - started
    if resp.returncode != 0:
        raise RuntimeError(f"tar x failed: {resp.read_stderr()!r}")
    started = time.perf_counter()
    resp = exec_stream(core, pod, ["tar", "cf", "-", "-C", "/tmp", "data"], stdin=False,
                       binary=True)
    received, status = read_frames(resp)
    download = time.perf_counter() - started
    if b'"Success"' not in status or received < len(payload):
        raise RuntimeError(f"tar c returned {received} of {len(payload)} bytes: {status!r}")
    mb = len(payload) / 1e6
    return mb / upload, mb / download, len(payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5, help="list repetitions (median)")
    parser.add_argument("--exec-rounds", type=int, default=200)
    parser.add_argument("--cp-mb", type=int, default=50)
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
            core.create_namespaced_pod(NAMESPACE, {"metadata": {"name": "exec-target"}, "spec": {
                "containers": [{"name": "main", "image": "alpine:3.20"}]}})
            wait_running(core, "exec-target")
            p50, p95 = exec_latency(core, "exec-target", args.exec_rounds)
            results.append({"bench": "kubesim_exec", "command": "true",
                            "rounds": args.exec_rounds, "p50_ms": round(p50 * 1000, 2),
                            "p95_ms": round(p95 * 1000, 2)})
            up, down, size = cp_throughput(core, "exec-target", args.cp_mb)
            results.append({"bench": "kubesim_cp", "mb": round(size / 1e6, 1),
                            "upload_mb_per_second": round(up, 1),
                            "download_mb_per_second": round(down, 1),
                            "mb_per_second": round(min(up, down), 1)})
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
