"""Fixtures of the operator console tests: pods made through the service layer, in any state."""
import pytest

from pods.choices import PodStatus as S
from pods.lifecycle import transition
from tenancy.identity import Principal
from tests.pods.conftest import _fast_tenant_keys  # noqa: F401 — autouse: tenants take pooled keys


@pytest.fixture
def make_pod(make_tenant):
    """``make_pod("web", tenant="dev", owner="alice", status="ERROR", container={...})``."""
    from pods.services.pods import pod_create
    from tenancy.models import Tenant

    def _make(pod_id, *, tenant="dev", owner="alice", status=None, container=None, **data):
        found = Tenant.objects.filter(tenant_id=tenant).first() or make_tenant(tenant)
        data.setdefault("image", "kubesim/web:1")
        pod = pod_create(principal=Principal(tenant=found, username=owner), data={"pod_id": pod_id, **data})
        path = {S.ERROR: [S.ERROR], S.AVAILABLE: [S.CREATING, S.AVAILABLE], S.CREATING: [S.CREATING],
                S.STOPPED: [S.STOPPED]}.get(status, [])
        for step in path:
            fields = {"status_container": container} if container and step == path[-1] else None
            assert transition(pod, to=step, fields=fields, actor="test")
        return pod

    return _make


@pytest.fixture
def image_pull_failure():
    return {"reason": "ErrImagePull", "phase": "Pending",
            "message": "Image 'kubesim/nope:1' could not be pulled (ErrImagePull): not found. Check the image name."}
