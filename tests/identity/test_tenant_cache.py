"""The per-process tenant/key cache (tenancy.cache): cheap when warm, never stale past its TTL.

A change made through the ORM in this process applies at once; any other change (another
process, SQL, ``QuerySet.update``) within ``PODS_TENANT_CACHE_SECONDS``, in every process.
"""
import time

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenancy import cache
from tenancy.identity.keys import generate_rsa_keypair, sign_rs256, tapis_claims
from tenancy.services import tenant_key_add
from tests.conftest import child_env
from tests.web_server import web_server


def _status(whoami, token):
    return whoami(HTTP_X_TAPIS_TOKEN=token).status_code


def test_warm_cache_authenticates_without_queries(whoami, tenant, token_for):
    token = token_for("alice")
    with CaptureQueriesContext(connection) as cold:
        assert _status(whoami, token) == 200
    with CaptureQueriesContext(connection) as warm:
        assert _status(whoami, token) == 200
    assert len(cold.captured_queries) == 2  # the tenant, its active keys
    assert len(warm.captured_queries) == 0


def test_key_deactivated_through_the_orm_stops_at_once(whoami, tenant, token_for):
    token = token_for("alice")
    assert _status(whoami, token) == 200
    key = tenant.keys.get()
    key.is_active = False
    key.save()
    response = whoami(HTTP_X_TAPIS_TOKEN=token)
    assert response.status_code == 401
    assert "no active key" in response.json()["message"]


def test_tenant_deactivated_through_the_orm_stops_at_once(whoami, tenant, token_for):
    token = token_for("alice")
    assert _status(whoami, token) == 200
    tenant.is_active = False
    tenant.save()
    assert "inactive" in whoami(HTTP_X_TAPIS_TOKEN=token).json()["message"]


def test_rotation_new_key_works_at_once_and_old_one_stops_when_deleted(whoami, tenant, token_for):
    old_token = token_for("alice")
    assert _status(whoami, old_token) == 200
    private_pem, public_pem = generate_rsa_keypair()
    tenant_key_add(tenant=tenant, public_key_pem=public_pem, kid="next")
    new_token = sign_rs256(tapis_claims(tenant_id="dev", username="alice", ttl=60), private_pem, kid="next")
    assert _status(whoami, new_token) == 200
    tenant.keys.exclude(kid="next").delete()  # QuerySet.delete sends post_delete per row
    assert _status(whoami, old_token) == 401
    assert _status(whoami, new_token) == 200


def test_change_no_signal_sees_applies_after_the_ttl(whoami, tenant, token_for, settings, monkeypatch):
    settings.PODS_TENANT_CACHE_SECONDS = 5
    token = token_for("alice")
    assert _status(whoami, token) == 200
    tenant.keys.update(is_active=False)  # no signal: as if another process or SQL did it
    now = time.monotonic()
    monkeypatch.setattr(cache.time, "monotonic", lambda: now + 4)
    assert _status(whoami, token) == 200  # still within the TTL: the cached keys
    monkeypatch.setattr(cache.time, "monotonic", lambda: now + 5.5)
    assert _status(whoami, token) == 401  # past it: reloaded


def test_ttl_zero_disables_the_cache(whoami, tenant, token_for, settings):
    settings.PODS_TENANT_CACHE_SECONDS = 0
    token = token_for("alice")
    assert _status(whoami, token) == 200
    tenant.keys.update(is_active=False)
    assert _status(whoami, token) == 401


def test_unknown_tenants_are_not_cached(whoami, tenant):
    key = tenant.keys.first()
    for i in range(5):
        token = sign_rs256(tapis_claims(tenant_id=f"nosuch{i}", username="alice", ttl=60), key.private_key_pem())
        assert _status(whoami, token) == 401
    assert not any(name.startswith("nosuch") for name in cache._by_tenant_id)


def test_requests_get_their_own_copy_of_the_tenant(tenant):
    first, second = cache.tenant_entry("dev"), cache.tenant_entry("dev")
    assert first.tenant is not second.tenant
    first.tenant.admins.append("mallory")  # a request's mistake does not leak into the next one
    assert "mallory" not in cache.tenant_entry("dev").tenant.admins


# --- Across processes: a server process's cache follows a change made here -----------------------

@pytest.fixture
def server(transactional_db):
    """The real web server (pods_project.serve) on the test database, TTL 1 s."""
    with web_server(child_env(PODS_TENANT_CACHE_SECONDS=1)) as base:
        yield base


def _until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_key_rotated_out_here_stops_working_in_another_process_within_the_ttl(server, make_tenant):
    tenant = make_tenant()
    old = tenant.keys.get()
    old_token = sign_rs256(tapis_claims(tenant_id="dev", username="alice", ttl=600), old.private_key_pem())

    def status(token):
        return requests.get(f"{server}/v3/pods", headers={"X-Tapis-Token": token}, timeout=10).status_code

    assert status(old_token) == 200  # the server has cached the tenant and its key
    private_pem, public_pem = generate_rsa_keypair()
    tenant_key_add(tenant=tenant, public_key_pem=public_pem, kid="next")
    new_token = sign_rs256(tapis_claims(tenant_id="dev", username="alice", ttl=600), private_pem, kid="next")
    old.is_active = False
    old.save()  # the signal clears only this process's cache: the server must see it through its TTL

    # TTL 1 s; the margin is for a loaded machine, not a tolerance of the cache.
    assert _until(lambda: status(old_token) == 401, timeout=10), "the rotated-out key kept working"
    assert status(new_token) == 200


def test_tenant_deactivated_here_is_refused_by_another_process_within_the_ttl(server, make_tenant):
    tenant = make_tenant()
    token = sign_rs256(tapis_claims(tenant_id="dev", username="alice", ttl=600),
                       tenant.keys.get().private_key_pem())

    def response():
        return requests.get(f"{server}/v3/pods", headers={"X-Tapis-Token": token}, timeout=10)

    assert response().status_code == 200
    type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
    assert _until(lambda: response().status_code == 401, timeout=10)
    assert "inactive" in response().json()["message"]
