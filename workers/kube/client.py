"""The lazily built Kubernetes API client (never at import time)."""
import threading
import time

from django.conf import settings
from kubernetes import client, config

from .metering import count_request, record_request, verb_and_resource

_lock = threading.Lock()
_api_client: client.ApiClient | None = None
# How often a kubeconfig's token is looked at again (the client's own hook did it on every request).
TOKEN_RECHECK_SECONDS = 30.0


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
            if configuration.refresh_api_key_hook is not None:
                configuration.refresh_api_key_hook = throttled_refresh(
                    configuration.refresh_api_key_hook, host=settings.PODS_KUBE_SERVER or None)
            # The client's own urllib3 retries would hide errors from our retry policy.
            configuration.retries = False
            # One pool shared by a worker's threads; the default (10) discards connections.
            configuration.connection_pool_maxsize = settings.PODS_KUBE_POOL_SIZE
            _api_client = _MeteredApiClient(configuration)
        return _api_client


def throttled_refresh(hook, *, host: str | None, seconds: float = TOKEN_RECHECK_SECONDS):
    """The kubeconfig loader's token hook, run at most once per ``seconds`` and keeping ``host``.

    For a kubeconfig with a token, the client calls the loader's hook before every request; the
    hook re-reads the token only when it has an expiry that is less than five minutes away, but
    every time it also copies the kubeconfig's server, CA and proxy back into the configuration,
    which cost about 5 % of the worker's CPU under load and undid the ``PODS_KUBE_SERVER``
    override. Checked every 30 s, a token is still renewed minutes before it expires.
    """
    lock = threading.Lock()
    due = 0.0

    def refresh(configuration):
        nonlocal hook, due
        if time.monotonic() < due:
            return
        with lock:
            if time.monotonic() < due:
                return
            hook(configuration)
            # The loader's hook installs itself again (a new closure each time): keep it inside.
            if configuration.refresh_api_key_hook not in (None, refresh):
                hook = configuration.refresh_api_key_hook
            configuration.refresh_api_key_hook = refresh
            if host:
                configuration.host = host
            due = time.monotonic() + seconds

    return refresh


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
