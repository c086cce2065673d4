"""Narrow verbs on the cluster. Plain values in, plain dicts out.

Hot paths (the sweep's lists) skip the client's typed deserialisation: a 10,000-pod list is
~22 MB of JSON that orjson parses in a fraction of the time the models take.
"""
import orjson
from kubernetes.client.exceptions import ApiException

from core.gcpause import paused as gc_paused

from . import client as kube_client
from .calls import call, translate
from .errors import AlreadyExists, NotFound
from .manifests import MANAGED_SELECTOR


def _json(response) -> dict:
    try:
        with gc_paused():  # a 10,000-pod list: 0.15 s instead of 0.5-0.8 s (core/gcpause.py)
            return orjson.loads(response.data)
    finally:
        response.release_conn()


def _verb(verb: str, kind: str):
    """The client method that does ``verb`` (create, read, delete) to ``kind``."""
    if kind == "networkpolicy":
        return getattr(kube_client.networking_v1(), f"{verb}_namespaced_network_policy")
    plural = {"configmap": "config_map", "pvc": "persistent_volume_claim"}.get(kind, kind)
    if kind not in ("pod", "service", "configmap", "secret", "pvc"):
        raise ValueError(f"unknown kind {kind!r}")
    return getattr(kube_client.core_v1(), f"{verb}_namespaced_{plural}")


def create(kind: str, manifest: dict) -> dict:
    """Create a Pod, Service, ConfigMap, Secret, NetworkPolicy or PersistentVolumeClaim (``pvc``); raises AlreadyExists when the
    name is taken.

    The answer of a Secret's create holds its data: callers keep it to themselves (never log it).
    """
    return _json(call(_verb("create", kind), kube_client.namespace(), manifest, _preload_content=False))


def read(kind: str, name: str) -> dict | None:
    """The object as a dict, or None when it does not exist."""
    fn = _verb("read", kind)
    try:
        return _json(call(fn, name, kube_client.namespace(), _preload_content=False))
    except NotFound:
        return None


def delete(kind: str, name: str, *, grace_seconds: int | None = None, uid: str | None = None) -> bool:
    """Delete an object; False when it was already gone (404 is success).

    With ``uid``, the delete applies only to that exact object (a precondition), so a teardown
    never removes a newer object that reused the name.
    """
    fn = _verb("delete", kind)
    body = {"apiVersion": "v1", "kind": "DeleteOptions"}
    if grace_seconds is not None:
        body["gracePeriodSeconds"] = grace_seconds
    if uid:
        body["preconditions"] = {"uid": uid}
    try:
        call(fn, name, kube_client.namespace(), body=body, _preload_content=False).release_conn()
        return True
    except NotFound:
        return False


def list_managed(kind: str) -> dict:
    """One labelled list of every managed Pod or Service in the namespace (raw JSON)."""
    api = kube_client.core_v1()
    fn = {"pod": api.list_namespaced_pod, "service": api.list_namespaced_service}[kind]
    return _json(call(fn, kube_client.namespace(), label_selector=MANAGED_SELECTOR, _preload_content=False))


def list_warning_events() -> dict:
    """One list of the namespace's Warning events (raw JSON)."""
    api = kube_client.core_v1()
    return _json(call(api.list_namespaced_event, kube_client.namespace(), field_selector="type=Warning",
                      _preload_content=False))


def read_log(name: str, *, since_time: str | None = None, limit_bytes: int | None = None,
             tail_lines: int | None = None, previous: bool = False, timestamps: bool = False) -> str:
    """Container output of a pod; empty when the pod or its log is gone.

    Built on the client's own request serialisation (same auth, TLS and errors as every
    generated call) because the generated ``read_namespaced_pod_log`` has no ``sinceTime``, and
    ``sinceSeconds`` would depend on our clock agreeing with the API server's.
    """
    api = kube_client.core_v1().api_client
    query = [("timestamps", str(timestamps).lower()), ("previous", str(previous).lower())]
    if since_time:
        query.append(("sinceTime", since_time))
    if limit_bytes:
        query.append(("limitBytes", int(limit_bytes)))
    if tail_lines:
        query.append(("tailLines", int(tail_lines)))
    request = api.param_serialize(
        method="GET", resource_path="/api/v1/namespaces/{namespace}/pods/{name}/log",
        path_params={"namespace": kube_client.namespace(), "name": name}, query_params=query,
        header_params={"Accept": "text/plain"}, auth_settings=["BearerToken"])

    def fetch(_request_timeout=None):
        method, url, headers, body, post_params = request
        response = api.call_api(method, url, header_params=headers, _request_timeout=_request_timeout)
        data = response.read()
        if not 200 <= response.status < 300:
            raise ApiException(http_resp=response)
        return data

    try:
        data = call(fetch)
    except NotFound:
        return ""
    return data.decode("utf-8", errors="replace").replace("\x00", "")


__all__ = ["create", "read", "delete", "list_managed", "list_warning_events", "read_log",
           "AlreadyExists", "NotFound"]


def watch_changes(kind: str, resource_version: str, *, timeout_seconds: int = 300):
    """Yield ``(type, raw_object)`` for changes after ``resource_version`` to the managed Pods
    (``pod``) or Services (``service``), or to the namespace's Warning events (``event``):
    the same selection as :func:`list_managed` and :func:`list_warning_events`.

    Ends when the server closes the watch (``timeout_seconds``). A resourceVersion too old to
    resume from raises KubeError with status 410: list again and resume from the list's.
    """
    from kubernetes.watch.watch import iter_resp_lines

    api = kube_client.core_v1()
    fn, selection = {
        "pod": (api.list_namespaced_pod, {"label_selector": MANAGED_SELECTOR}),
        "service": (api.list_namespaced_service, {"label_selector": MANAGED_SELECTOR}),
        "event": (api.list_namespaced_event, {"field_selector": "type=Warning"}),
    }[kind]
    response = None
    try:
        # The client's Watch would build a typed model of every object (and re-serialise it to
        # JSON first): 40 % of the watcher's CPU under load went there, for fields read as dicts.
        response = fn(kube_client.namespace(), watch=True, resource_version=resource_version,
                      allow_watch_bookmarks=True, timeout_seconds=timeout_seconds,
                      _request_timeout=timeout_seconds + 30, _preload_content=False, **selection)
        if not 200 <= response.status < 300:
            raise ApiException(http_resp=response)
        for line in iter_resp_lines(response):
            event = orjson.loads(line)
            if event.get("type") == "ERROR":  # e.g. 410 Gone: the version is too old to resume from
                status = event.get("object") or {}
                raise ApiException(status=status.get("code"), reason=f"{status.get('reason')}: {status.get('message')}")
            yield event["type"], event.get("object") or {}
    except Exception as exc:  # noqa: BLE001 - translated, re-raised
        translated = translate(exc)
        if translated is exc:
            raise
        raise translated from exc
    finally:
        if response is not None:  # closed, not pooled: a watch left early has unread data
            response.close()
            response.release_conn()


def watch_managed_pods(resource_version: str, *, timeout_seconds: int = 300):
    """Changes to managed Pods after ``resource_version`` (see :func:`watch_changes`)."""
    return watch_changes("pod", resource_version, timeout_seconds=timeout_seconds)
