"""Fixtures for volumes and files: the tenant's storage server running in kubesim."""
import pytest


@pytest.fixture
def storage(sim, tenant, settings):
    """``storage()`` brings the tenant's storage server up (the worker's pass, the clock moved)."""
    from workers.storage_server import ensure_storage

    settings.PODS_STORAGE_WAIT_SECONDS = 0

    def up(for_tenant=None):
        for _ in range(20):
            if ensure_storage((for_tenant or tenant).pk) == "ready":
                return
            sim.advance(2)
        raise AssertionError("the storage server never became ready")

    up()
    return up


@pytest.fixture
def server_sh(sim, tenant):
    """Run a shell command in the tenant's storage server (the test's own look at the data)."""
    from workers.kube.manifests import storage_server_name

    def run(script):
        return sim.exec("default", storage_server_name(tenant.site_id, tenant.tenant_id), ["sh", "-c", script])

    return run


@pytest.fixture
def alice(client_for):
    return client_for("alice")


@pytest.fixture
def bob(client_for):
    return client_for("bob")
