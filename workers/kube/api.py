"""Narrow verbs on the cluster. Plain values in, plain dicts out.

Hot paths (the sweep's lists) skip the client's typed deserialisation: a 10,000-pod list is
~22 MB of JSON that orjson parses in a fraction of the time the models take.
"""
import orjson

from . import client as kube_client
from .calls import call
from .errors import AlreadyExists, NotFound
from .manifests import MANAGED_SELECTOR


def _json(response) -> dict:
    try:
        return orjson.loads(response.data)
    finally:
        response.release_conn()


def create(kind: str, manifest: dict) -> dict:
    """Create a Pod or Service; raises AlreadyExists when the name is taken."""
    api = kube_client.core_v1()
    fn = {"pod": api.create_namespaced_pod, "service": api.create_namespaced_service}[kind]
    return _json(call(fn, kube_client.namespace(), manifest, _preload_content=False))


def read(kind: str, name: str) -> dict | None:
    """The object as a dict, or None when it does not exist."""
    api = kube_client.core_v1()
    fn = {"pod": api.read_namespaced_pod, "service": api.read_namespaced_service}[kind]
    try:
        return _json(call(fn, name, kube_client.namespace(), _preload_content=False))
    except NotFound:
        return None


def delete(kind: str, name: str, *, grace_seconds: int | None = None, uid: str | None = None) -> bool:
    """Delete an object; False when it was already gone (404 is success).

    With ``uid``, the delete applies only to that exact object (a precondition), so a teardown
    never removes a newer object that reused the name.
    """
    api = kube_client.core_v1()
    fn = {"pod": api.delete_namespaced_pod, "service": api.delete_namespaced_service}[kind]
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
    """Container output of a pod; empty when the pod or its log is gone."""
    api = kube_client.core_v1()
    kwargs = {"timestamps": timestamps, "previous": previous, "_preload_content": False}
    if limit_bytes:
        kwargs["limit_bytes"] = limit_bytes
    if tail_lines:
        kwargs["tail_lines"] = tail_lines
    try:
        if since_time:
            response = _read_log_since(api, name, since_time, kwargs)
        else:
            response = call(api.read_namespaced_pod_log, name, kube_client.namespace(), **kwargs)
    except NotFound:
        return ""
    try:
        return response.data.decode("utf-8", errors="replace").replace("\x00", "")
    finally:
        response.release_conn()


def _read_log_since(api, name, since_time, kwargs):
    """GET .../log?sinceTime=... through the client's generic call (same auth, TLS, errors).

    The generated client has no ``since_time`` argument (only ``since_seconds``, which would
    drift between calls), so the query is built here.
    """
    query = [("sinceTime", since_time), ("timestamps", str(kwargs["timestamps"]).lower())]
    if kwargs.get("limit_bytes"):
        query.append(("limitBytes", kwargs["limit_bytes"]))
    if kwargs.get("previous"):
        query.append(("previous", "true"))
    return call(
        api.api_client.call_api,
        "/api/v1/namespaces/{namespace}/pods/{name}/log", "GET",
        path_params={"namespace": kube_client.namespace(), "name": name},
        query_params=query, header_params={"Accept": "text/plain"},
        auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
    )


__all__ = ["create", "read", "delete", "list_managed", "list_warning_events", "read_log",
           "AlreadyExists", "NotFound"]
