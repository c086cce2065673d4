"""Healthcheck: 200 when Postgres and Redis answer, 503 naming what failed otherwise."""
import pytest


@pytest.mark.parametrize("path", ["/healthcheck", "/v3/healthcheck"])
def test_healthcheck_ok(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "success"
    assert body["result"] == {"database": "ok", "redis": "ok"}


def test_healthcheck_503_when_redis_is_unreachable(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/v3/healthcheck")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert "redis" in body["message"]
    assert body["result"] == {"database": "ok", "redis": "unavailable"}


def test_healthcheck_503_when_database_is_unreachable(client, db, monkeypatch):
    from workers import views

    def broken():
        raise OSError("connection refused")

    monkeypatch.setitem(views.HEALTH_CHECKS, "database", broken)
    response = client.get("/healthcheck")
    assert response.status_code == 503
    assert "database" in response.json()["message"]
