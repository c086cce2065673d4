"""Fixtures for the pods API tests: principals, pods made through the service layer."""
import pytest

from pods.identity import Principal


@pytest.fixture
def principal_for(tenant):
    """``principal_for("alice")`` → a Principal in ``tenant`` (or another), as the auth layer builds."""

    def _principal(username, in_tenant=None, admin_mode=False):
        t = in_tenant or tenant
        return Principal(tenant=t, username=username, is_tenant_admin=t.is_admin(username),
                         admin_mode=admin_mode)

    return _principal


@pytest.fixture
def make_pod(principal_for):
    """``make_pod("mypod", owner="alice", status_requested="OFF", ...)`` through ``pod_create``."""
    from pods.services import pod_create

    def _make(pod_id="mypod", owner="alice", in_tenant=None, **fields):
        fields.setdefault("image", "kubesim/happy")
        return pod_create(principal=principal_for(owner, in_tenant), data={"pod_id": pod_id, **fields})

    return _make


@pytest.fixture
def alice(client_for):
    return client_for("alice")


@pytest.fixture
def bob(client_for):
    return client_for("bob")
