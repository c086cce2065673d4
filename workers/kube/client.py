"""The lazily built Kubernetes API client (never at import time)."""
import threading

from django.conf import settings
from kubernetes import client, config

from .metering import count_request, record_request, verb_and_resource

_lock = threading.Lock()
_api_client: client.ApiClient | None = None


class _MeteredApiClient(client.ApiClient):
    """The client's one exit for HTTP requests, counted (see ``workers.kube.metering``)."""

    def call_api(self, method, url, *args, **kwargs):
        record_request()
        verb, resource = verb_and_resource(method, url)
        try:
            response = super().call_api(method, url, *args, **kwargs)
        except Exception as exc:  # re-raised: only its HTTP status is read
            count_request(verb, resource, getattr(exc, "status", None) or "error")
            raise
        status = getattr(response, "status", None)
        count_request(verb, resource, status if isinstance(status, int) else "error")
        return response


def api_client() -> client.ApiClient:
    """The process-wide ApiClient, from KUBECONFIG or, without one, the in-cluster config."""
    global _api_client
    with _lock:
        if _api_client is None:
            configuration = client.Configuration()
            if settings.PODS_KUBECONFIG:
                config.load_kube_config(config_file=settings.PODS_KUBECONFIG,
                                        context=settings.PODS_KUBE_CONTEXT or None,
                                        client_configuration=configuration)
            else:
                config.load_incluster_config(client_configuration=configuration)
            if settings.PODS_KUBE_SERVER:
                configuration.host = settings.PODS_KUBE_SERVER
            # The client's own urllib3 retries would hide errors from our retry policy.
            configuration.retries = False
            # One pool shared by a worker's threads; the default (10) discards connections.
            configuration.connection_pool_maxsize = settings.PODS_KUBE_POOL_SIZE
            _api_client = _MeteredApiClient(configuration)
        return _api_client


def core_v1() -> client.CoreV1Api:
    return client.CoreV1Api(api_client())


def networking_v1() -> client.NetworkingV1Api:
    return client.NetworkingV1Api(api_client())


def namespace() -> str:
    return settings.PODS_KUBE_NAMESPACE


def reset_client():
    """Forget the client (tests switch clusters; operators reload a rotated kubeconfig)."""
    global _api_client
    with _lock:
        if _api_client is not None:
            _api_client.close()
        _api_client = None
