"""The real web server (``python -m pods_project.serve``, granian) as a child process of a test."""
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def web_server(env: dict, *, workers: int = 1, threads: int = 4, timeout: float = 60):
    """Yields the base URL of a server started with ``env`` once ``/healthcheck`` answers (any
    status: a 503 is an answer too); stops it (SIGTERM, as a supervisor would) afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pods_project.serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--threads", str(threads), "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                requests.get(f"{base}/healthcheck", timeout=5)
                break
            except requests.RequestException:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError(f"the web server did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stderr.close()
