"""The whole service for real: live web server, Celery worker and beat processes, and kubesim
(wall clock, sped up) — driven through tapipy exactly as a user would.

kubesim enforces the RBAC rendered from deploy/overlays/production, and each process talks to it
as its deployed ServiceAccount (the worker as pods-worker, the watcher as pods-watcher, beat and
the web as their accounts without any Role), in the pods' namespace of that overlay: a request
the deployment would refuse fails the test."""
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

import kubesim
from tests.conftest import ROOT, all_queues, child_env

SPEED = 20.0  # virtual seconds per wall second: a 30 s kubelet step takes 1.5 s
PODS_NAMESPACE = "pods-workloads"  # where deploy/overlays/production runs user pods
WORKER_SETTINGS = {
    "PODS_SWEEP_SECONDS": "1",
    "PODS_RESYNC_SECONDS": "1",  # the full resync as often as the timers: converge fast without a watcher
    "PODS_LOG_COLLECT_SECONDS": "1",
    "PODS_STOP_GRACE_SECONDS": "2",
    "PODS_REDRIVE_SECONDS": "4",
    "PODS_ORPHAN_GRACE_SECONDS": "2",
    "PODS_KUBE_BACKOFF_MAX": "0.5",
}


class Stack:
    """Worker, beat and watcher processes around one kubesim; the worker restartable, killable."""

    def __init__(self, sim, kubeconfigs, logdir):
        self.sim, self.kubeconfigs, self.logdir = sim, kubeconfigs, logdir
        self.kubeconfig = str(kubeconfigs["admin"])  # the test's own look at the cluster
        self.worker = self.beat = self.watcher = None
        self._n = 0

    def _env(self, component):
        return child_env(KUBECONFIG=self.kubeconfigs[component], PODS_KUBE_NAMESPACE=PODS_NAMESPACE,
                         **WORKER_SETTINGS)

    def _spawn(self, args, name):
        self._n += 1
        log = self.logdir / f"{name}-{self._n}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "pods_project", *args],
                                    cwd=ROOT, env=self._env(name), stdout=out, stderr=subprocess.STDOUT)
        proc.log_path = log
        return proc

    def start_worker(self):
        self.worker = self._spawn(["worker", "--pool", "threads", "--concurrency", "4", "-Q", all_queues(),
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
                                            env=self._env("watcher"), stdout=out, stderr=subprocess.STDOUT)

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
def deployed_rbac():
    from kubesim.rbac.files import rbac_objects
    from tests.deploy.manifests import config_data, render

    objects = render("overlays/production")
    assert config_data(objects)["PODS_KUBE_NAMESPACE"] == PODS_NAMESPACE
    return rbac_objects(objects)


@pytest.fixture(scope="session")
def e2e_sim(deployed_rbac):
    sim = kubesim.start_in_thread(port=0, config=kubesim.Config(clock="wall", speed=SPEED, rbac=True))
    sim.apply_rbac(deployed_rbac)
    yield sim
    sim.stop()


@pytest.fixture
def stack(e2e_sim, live_server, tmp_path, transactional_db, settings):
    from workers.kube import client as kube_client

    e2e_sim.reset()
    admin = e2e_sim.write_kubeconfig(tmp_path / "admin")
    kubeconfigs = {"admin": admin, **{
        component: kubesim.write_kubeconfig(
            tmp_path / f"{component}.kubeconfig", e2e_sim.url,
            e2e_sim.service_account_token("pods-system", f"pods-{component}"), namespace=PODS_NAMESPACE)
        for component in ("web", "worker", "beat", "watcher")}}
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(admin))
    client.CoreV1Api(api).create_namespace({"metadata": {"name": PODS_NAMESPACE}})
    api.close()
    # The live server runs in this process: as the web, which has no Role at all.
    settings.PODS_KUBECONFIG, settings.PODS_KUBE_NAMESPACE = str(kubeconfigs["web"]), PODS_NAMESPACE
    settings.PODS_ENQUEUE_IN_BACKGROUND = True  # as deployed: wake-ups go out from the sender thread
    kube_client.reset_client()
    stack = Stack(e2e_sim, kubeconfigs, tmp_path)
    stack.start_worker()
    stack.start_beat()
    stack.start_watcher()
    yield stack
    stack.stop()
    e2e_sim.clear_faults()
    kube_client.reset_client()
    usage = e2e_sim.usage()
    refused = [u for u in usage if u["forbidden"]]
    assert not refused, f"requests the deployed Roles refuse: {refused}"
    assert not [u for u in usage if u["user"].endswith(("pods-web", "pods-beat"))], "web and beat need no API"


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
        items = fn(PODS_NAMESPACE, label_selector=MANAGED_SELECTOR).items
        return sorted(i.metadata.name for i in items if include_terminating or not i.metadata.deletion_timestamp)

    yield _names
    api.close()
