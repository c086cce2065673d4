"""Fixtures for the worker tests (kubesim itself: ``sim`` and ``core`` in tests/conftest.py)."""
import pytest

from tenancy.identity import Principal


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
def names(core):
    """``names("pods")`` / ``names("services")``: the managed objects in the namespace now."""
    from workers.kube.manifests import MANAGED_SELECTOR

    def _names(kind):
        fn = core.list_namespaced_pod if kind == "pods" else core.list_namespaced_service
        return sorted(item.metadata.name for item in fn("default", label_selector=MANAGED_SELECTOR).items)

    return _names
