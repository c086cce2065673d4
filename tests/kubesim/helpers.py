"""Shared helpers for kubesim tests."""

from __future__ import annotations

import json
import time

from kubernetes.client.exceptions import ApiException


def pod_manifest(name: str, image: str = "nginx:1.27", labels: dict | None = None,
                 annotations: dict | None = None, restart_policy: str | None = None,
                 **spec) -> dict:
    """A minimal pod body."""
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
            "spec": {"containers": [{"name": "main", "image": image}], **spec}}
    if restart_policy:
        body["spec"]["restartPolicy"] = restart_policy
    return body


def status_of(exc: ApiException) -> dict:
    """The ``Status`` body of an API error."""
    return json.loads(exc.body)


def raw_request(api_client, method: str, path: str, body=None, headers: dict | None = None,
                query: list | None = None):
    """Send a request through the real client's transport; returns the RESTResponse."""
    method, url, header_params, body, _ = api_client.param_serialize(
        method, path, query_params=query, header_params=headers or {}, body=body,
        auth_settings=["BearerToken"])
    return api_client.call_api(method, url, header_params, body)


def raw_json(api_client, path: str, headers: dict | None = None, query: list | None = None):
    """GET ``path`` and decode the JSON body."""
    response = raw_request(api_client, "GET", path, headers=headers, query=query)
    return json.loads(response.read())


def wait_for(predicate, timeout=30.0):
    """Poll until ``predicate()`` is truthy (generous bound; no timing is asserted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")
