"""Fixtures for the worker tests: a real kubesim server driven through the real client."""
import pytest

import kubesim
from pods.identity import Principal
from workers.kube import client as kube_client


@pytest.fixture(scope="session")
def kubesim_server():
    """One in-process kubesim (manual clock) for the session; each test resets it."""
    sim = kubesim.start_in_thread(port=0, seed=42)
    yield sim
    sim.stop()


@pytest.fixture
def sim(kubesim_server, tmp_path, settings):
    """A fresh simulated cluster, with the worker's client pointed at it."""
    kubesim_server.reset()
    settings.PODS_KUBECONFIG = str(kubesim_server.write_kubeconfig(tmp_path / "kubeconfig"))
    settings.PODS_KUBE_NAMESPACE = "default"
    settings.PODS_KUBE_BACKOFF_MAX = 0.05  # keep retries quick in tests
    kube_client.reset_client()
    yield kubesim_server
    kubesim_server.clear_faults()
    kube_client.reset_client()


@pytest.fixture
def alice(tenant):
    return Principal(tenant=tenant, username="alice")


@pytest.fixture
def make_pod(alice):
    """Create a pod through the same service function the API uses."""
    from pods.services.pods import pod_create

    def _make(pod_id="mypod", **data):
        data.setdefault("image", "kubesim/web:1")
        return pod_create(principal=alice, data={"pod_id": pod_id, **data})

    return _make


@pytest.fixture
def core(sim, settings):
    """A separate CoreV1Api for the test's own look at the cluster."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=settings.PODS_KUBECONFIG)
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def names(core):
    """``names("pods")`` / ``names("services")``: the managed objects in the namespace now."""
    from workers.kube.manifests import MANAGED_SELECTOR

    def _names(kind):
        fn = core.list_namespaced_pod if kind == "pods" else core.list_namespaced_service
        return sorted(item.metadata.name for item in fn("default", label_selector=MANAGED_SELECTOR).items)

    return _names
