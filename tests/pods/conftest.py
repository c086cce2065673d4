"""Fixtures for the pods API tests: principals, pods made through the service layer."""
from functools import lru_cache

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tenancy.identity.keys import generate_rsa_keypair

_KEY_POOL = []


@lru_cache(maxsize=16)
def _private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


@pytest.fixture(autouse=True)
def _fast_tenant_keys(monkeypatch):
    """Speed only: most of a pods test's time went to making a 2048-bit RSA key per tenant and
    re-parsing it for every token. Tenants here take keys from a small pool (still distinct
    within a test) and signing reuses the parsed key; tokens and verification are unchanged."""
    import tenancy.services

    handed_out = iter(range(100))

    def pooled_keypair():
        index = next(handed_out)
        while len(_KEY_POOL) <= index:
            _KEY_POOL.append(generate_rsa_keypair())
        return _KEY_POOL[index]

    def sign(claims, private_pem, kid=""):
        return jwt.encode(claims, _private_key(private_pem), algorithm="RS256",
                          headers={"kid": kid} if kid else None)

    monkeypatch.setattr(tenancy.services, "generate_rsa_keypair", pooled_keypair)
    monkeypatch.setattr(tenancy.services, "sign_rs256", sign)


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
