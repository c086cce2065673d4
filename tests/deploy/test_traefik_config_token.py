"""/traefik-config behind the shared secret the deployed Traefik sends (PODS_TRAEFIK_CONFIG_TOKEN)."""
import pytest

pytestmark = pytest.mark.django_db
HEADER = "HTTP_X_PODS_TRAEFIK_CONFIG_TOKEN"
PATHS = ["/traefik-config", "/pods/traefik-config", "/v3/pods/traefik-config"]


@pytest.mark.parametrize("path", PATHS)
def test_with_a_secret_only_its_holder_reads_the_routes(client, settings, path):
    settings.PODS_TRAEFIK_CONFIG_TOKEN = "s3cret"
    for headers in ({}, {HEADER: "wrong"}, {HEADER: "s3cret-and-more"}):
        response = client.get(path, **headers)
        assert response.status_code == 403 and response["Content-Type"] == "application/json"
        assert "X-Pods-Traefik-Config-Token" in response.json()["message"]
    response = client.get(path, **{HEADER: "s3cret"})
    assert response.status_code == 200
    assert set(response.json()) == {"http", "tcp"}


def test_without_a_secret_it_stays_open_as_upstream(client, settings):
    settings.PODS_TRAEFIK_CONFIG_TOKEN = ""
    assert client.get("/traefik-config").status_code == 200
