import pytest


@pytest.fixture(autouse=True)
def _whoami_urls(settings):
    settings.ROOT_URLCONF = "tests.urls_whoami"


@pytest.fixture
def whoami(client):
    """GET the echo view with the given headers; returns the response."""

    def _call(**headers):
        return client.get("/v3/pods/whoami", **headers)

    return _call
