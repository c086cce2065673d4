"""The process-wide Kubernetes client: a kubeconfig's token hook runs rarely and keeps the
``PODS_KUBE_SERVER`` override (the client's own hook reset the host before every request)."""
import pytest

import kubesim
from workers.kube import api as kube
from workers.kube import client as kube_client


@pytest.fixture
def token_kubeconfig_elsewhere(sim, tmp_path, settings):
    """The test's token, but a kubeconfig whose server is unreachable: only the override works."""
    import yaml

    token = yaml.safe_load(open(settings.PODS_KUBECONFIG))["users"][0]["user"]["token"]
    settings.PODS_KUBECONFIG = str(kubesim.write_kubeconfig(tmp_path / "elsewhere", "http://127.0.0.1:9", token))
    settings.PODS_KUBE_SERVER = sim.url
    kube_client.reset_client()
    yield sim
    kube_client.reset_client()


def test_the_server_override_holds_for_every_request_of_a_token_kubeconfig(token_kubeconfig_elsewhere):
    for _ in range(3):
        assert kube.list_managed("pod")["items"] == []
    assert kube_client.api_client().configuration.host == token_kubeconfig_elsewhere.url


def test_the_token_hook_runs_once_per_interval():
    calls = []

    class Configuration:
        host = "http://from-the-kubeconfig"
        refresh_api_key_hook = None

    def hook(configuration):  # as the kubeconfig loader's: it reinstalls itself
        calls.append(1)
        configuration.host = "http://from-the-kubeconfig"
        configuration.refresh_api_key_hook = hook

    refresh = kube_client.throttled_refresh(hook, host="http://override", seconds=60)
    configuration = Configuration()
    for _ in range(5):
        configuration.refresh_api_key_hook(configuration) if configuration.refresh_api_key_hook else refresh(configuration)
    assert len(calls) == 1 and configuration.host == "http://override"
    assert configuration.refresh_api_key_hook is refresh, "the loader's hook stays wrapped"
    expired = kube_client.throttled_refresh(hook, host=None, seconds=0)
    expired(configuration)
    configuration.refresh_api_key_hook(configuration)
    assert len(calls) == 3 and configuration.host == "http://from-the-kubeconfig"
