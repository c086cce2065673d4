"""A verified X-Tapis-Token is remembered per process, never past its keys or its expiry.

(tenancy.identity.tapis: ``_remembered`` / ``_remember``.) The invalidation through the key set
is also covered by test_tenant_cache.py, whose tests authenticate once (remembering the token)
before deactivating or rotating keys and tenants.
"""
import time

import jwt

from tenancy.identity import tapis


def _status(whoami, token):
    return whoami(HTTP_X_TAPIS_TOKEN=token).status_code


def _count_decodes(monkeypatch):
    calls = []
    real = jwt.decode

    def counting(*args, **kwargs):
        calls.append(kwargs.get("options", {}).get("verify_signature", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(tapis.jwt, "decode", counting)
    return calls


def test_second_request_with_the_same_token_is_not_verified_again(whoami, tenant, token_for, monkeypatch):
    calls = _count_decodes(monkeypatch)
    token = token_for("alice")
    assert _status(whoami, token) == 200
    assert calls.count(True) == 1  # one signature check
    assert _status(whoami, token) == 200
    assert _status(whoami, token) == 200
    assert calls.count(True) == 1
    assert whoami(HTTP_X_TAPIS_TOKEN=token).json()["result"]["username"] == "alice"


def test_a_token_differing_by_one_character_is_verified_on_its_own(whoami, tenant, token_for):
    token = token_for("alice")
    assert _status(whoami, token) == 200
    head, payload, signature = token.split(".")
    forged = ".".join((head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")))
    response = whoami(HTTP_X_TAPIS_TOKEN=forged)
    assert response.status_code == 401
    assert "signature" in response.json()["message"]


def test_a_remembered_token_expires_like_any_other(whoami, tenant, token_for, settings):
    settings.PODS_JWT_LEEWAY = 0
    token = token_for("alice", ttl=2)
    assert _status(whoami, token) == 200
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, exp - time.time()) + 0.2)
    response = whoami(HTTP_X_TAPIS_TOKEN=token)
    assert response.status_code == 401
    assert response.json()["message"] == "Token has expired."
    assert token not in tapis._verified


def test_a_remembered_token_of_a_deactivated_key_is_refused(whoami, tenant, token_for):
    token = token_for("alice")
    assert _status(whoami, token) == 200
    assert token in tapis._verified
    tenant.keys.update(is_active=False)  # no signal: the tenant cache keeps its keys ...
    assert _status(whoami, token) == 200
    from tenancy import cache

    cache.clear()  # ... until it reloads them (its TTL, or a change through the ORM)
    assert _status(whoami, token) == 401


def test_the_memory_is_bounded(whoami, tenant, token_for, monkeypatch):
    monkeypatch.setattr(tapis, "VERIFIED_MAX", 2)
    tokens = [token_for(f"user{i}") for i in range(3)]
    for token in tokens:
        assert _status(whoami, token) == 200
    assert list(tapis._verified) == tokens[1:]  # the oldest went first
    assert _status(whoami, tokens[0]) == 200  # verified again


def test_nothing_is_remembered_with_the_tenant_cache_off(whoami, tenant, token_for, settings, monkeypatch):
    settings.PODS_TENANT_CACHE_SECONDS = 0
    calls = _count_decodes(monkeypatch)
    token = token_for("alice")
    assert _status(whoami, token) == 200
    assert _status(whoami, token) == 200
    assert calls.count(True) == 2
    assert not tapis._verified
