"""The whole service for real: live web server, Celery worker and beat processes, and kubesim
(wall clock, sped up) — driven through tapipy exactly as a user would."""
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

import kubesim
from tests.conftest import ROOT, child_env

SPEED = 20.0  # virtual seconds per wall second: a 30 s kubelet step takes 1.5 s
WORKER_SETTINGS = {
    "PODS_SWEEP_SECONDS": "1",
    "PODS_LOG_COLLECT_SECONDS": "1",
    "PODS_STOP_GRACE_SECONDS": "2",
    "PODS_REDRIVE_SECONDS": "4",
    "PODS_ORPHAN_GRACE_SECONDS": "2",
    "PODS_KUBE_BACKOFF_MAX": "0.5",
}


class Stack:
    """Worker, beat and watcher processes around one kubesim; the worker restartable, killable."""

    def __init__(self, sim, kubeconfig, logdir):
        self.sim, self.kubeconfig, self.logdir = sim, kubeconfig, logdir
        self.worker = self.beat = self.watcher = None
        self._n = 0

    def _env(self):
        return child_env(KUBECONFIG=self.kubeconfig, **WORKER_SETTINGS)

    def _spawn(self, args, name):
        self._n += 1
        log = self.logdir / f"{name}-{self._n}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "pods_project", *args],
                                    cwd=ROOT, env=self._env(), stdout=out, stderr=subprocess.STDOUT)
        proc.log_path = log
        return proc

    def start_worker(self):
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        self.worker = self._spawn(["worker", "--pool", "threads", "--concurrency", "4", "-Q", queue,
                                   "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
                                   "--without-mingle", "-n", f"e2e{self._n}@%h"], "worker")
        wait_for(lambda: b"ready." in self.worker.log_path.read_bytes(), 30, "worker start")

    def start_beat(self):
        self.beat = self._spawn(["beat", "--loglevel", "INFO", "--schedule",
                                 str(self.logdir / "beat-schedule")], "beat")

    def start_watcher(self):
        log = self.logdir / "watcher.log"
        with open(log, "wb") as out:
            self.watcher = subprocess.Popen([sys.executable, "manage.py", "watch_cluster"], cwd=ROOT,
                                            env=self._env(), stdout=out, stderr=subprocess.STDOUT)

    def kill_worker(self):
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(10)

    def stop(self):
        for proc in (self.worker, self.beat, self.watcher):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="session")
def e2e_sim():
    sim = kubesim.start_in_thread(port=0, clock="wall", speed=SPEED)
    yield sim
    sim.stop()


@pytest.fixture
def stack(e2e_sim, live_server, tmp_path, transactional_db):
    e2e_sim.reset()
    kubeconfig = str(e2e_sim.write_kubeconfig(tmp_path / "kubeconfig"))
    stack = Stack(e2e_sim, kubeconfig, tmp_path)
    stack.start_worker()
    stack.start_beat()
    stack.start_watcher()
    yield stack
    stack.stop()
    e2e_sim.clear_faults()


@pytest.fixture
def tapis(stack, live_server, make_tenant):
    """tapipy for user alice of tenant dev, against the live server."""
    from tapipy.tapis import Tapis

    from tenancy.services import dev_token

    tenant = make_tenant("dev")
    return Tapis(base_url=live_server.url, tenant_id="dev", access_token=dev_token(tenant=tenant, username="alice"))


@pytest.fixture
def cluster_pods(stack):
    """Names of the managed Pods in kubesim right now (through the real client)."""
    from kubernetes import client, config

    from workers.kube.manifests import MANAGED_SELECTOR

    api = config.new_client_from_config(config_file=stack.kubeconfig)
    core = client.CoreV1Api(api)

    def _names(kind="pods", include_terminating=False):
        fn = core.list_namespaced_pod if kind == "pods" else core.list_namespaced_service
        items = fn("default", label_selector=MANAGED_SELECTOR).items
        return sorted(i.metadata.name for i in items if include_terminating or not i.metadata.deletion_timestamp)

    yield _names
    api.close()
