"""Fault injection, the request journal and the HTTP control API."""

from __future__ import annotations

import json
import urllib.request

import pytest
import urllib3
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from .helpers import pod_manifest, status_of


def control(sim, method, path, body=None):
    request = urllib.request.Request(sim.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_throttle_with_retry_after_once(core, sim):
    sim.inject_fault(verb="POST", path="/api/v1/namespaces/*/pods", status=429, retry_after=3,
                     times=1)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", pod_manifest("t"))
    assert err.value.status == 429
    assert err.value.headers["Retry-After"] == "3"
    body = status_of(err.value)
    assert body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 3
    core.create_namespaced_pod("default", pod_manifest("t"))  # the fault was used up


@pytest.mark.parametrize("code,reason", [(500, "InternalError"), (503, "ServiceUnavailable"),
                                         (504, "Timeout"), (403, "Forbidden")])
def test_error_statuses(core, sim, code, reason):
    sim.inject_fault(verb="GET", path="/api/v1/namespaces/default/pods", status=code)
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default")
    assert err.value.status == code and status_of(err.value)["reason"] == reason
    core.read_namespace("default")  # other paths are unaffected


def test_drop_after_write_applies_it(core, sim):
    sim.inject_fault(verb="POST", path="*/pods", drop="after", times=1)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.create_namespaced_pod("default", pod_manifest("lost"))
    assert core.read_namespaced_pod("lost", "default").metadata.name == "lost"
    with pytest.raises(ApiException) as err:  # the client's retry sees the earlier write
        core.create_namespaced_pod("default", pod_manifest("lost"))
    assert err.value.status == 409


def test_drop_before_write_does_not_apply_it(core, sim):
    sim.inject_fault(verb="POST", path="*/configmaps", drop="before", times=1)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.create_namespaced_config_map("default", {"metadata": {"name": "never"}})
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("never", "default")
    assert err.value.status == 404


def test_full_outage_and_recovery(core, sim):
    sim.outage()
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_pod("default", _request_timeout=5)
    sim.clear_faults()
    assert core.list_namespaced_pod("default").items == []


def test_latency_makes_client_timeout(core, sim):
    sim.inject_fault(verb="GET", path="/api/v1/namespaces/default/secrets", latency=2, times=4)
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_secret("default", _request_timeout=0.2)


def test_watch_fault_is_error_event(core, sim):
    sim.inject_fault(verb="watch", path="/api/v1/namespaces/default/pods", status=410, times=2)
    with pytest.raises(ApiException) as err:
        list(watch.Watch().stream(core.list_namespaced_pod, "default", resource_version="1",
                                  timeout_seconds=5))
    assert err.value.status == 410


def test_journal_records_requests(core, sim):
    sim.clear_journal()
    core.create_namespaced_pod("default", pod_manifest("j"), dry_run="All")
    with pytest.raises(ApiException):
        core.read_namespaced_pod("j", "default")
    entries = sim.journal()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/api/v1/namespaces/default/pods", 201),
        ("GET", "/api/v1/namespaces/default/pods/j", 404)]
    assert entries[0]["query"] == {"dryRun": "All"}
    assert json.loads(entries[0]["body"])["metadata"]["name"] == "j"
    assert entries[0]["time"].endswith("Z") and entries[0]["user_agent"].startswith("OpenAPI")
    assert sim.journal(since=entries[0]["seq"]) == entries[1:]


def test_http_control_api(core, sim):
    assert control(sim, "GET", "/_kubesim/health") == {"ok": True}
    before = control(sim, "GET", "/_kubesim/clock")
    after = control(sim, "POST", "/_kubesim/clock/advance", {"seconds": 10})
    assert after["epoch"] == pytest.approx(before["epoch"] + 10)
    control(sim, "POST", "/_kubesim/scenarios", {"scenario": "fails", "image": "busybox*"})
    core.create_namespaced_pod("default", pod_manifest("c", image="busybox:1",
                                                       restart_policy="Never"))
    control(sim, "POST", "/_kubesim/settle", {"max_seconds": 60})
    assert core.read_namespaced_pod("c", "default").status.phase == "Failed"
    fault = control(sim, "POST", "/_kubesim/faults", {"verb": "GET", "path": "/api/v1/nodes",
                                                      "status": 500})
    assert control(sim, "GET", "/_kubesim/faults")["faults"][0]["id"] == fault["id"]
    with pytest.raises(ApiException):
        core.list_node()
    control(sim, "DELETE", f"/_kubesim/faults/{fault['id']}")
    assert core.list_node().items
    control(sim, "PUT", "/_kubesim/logs/default/c", {"text": "custom\n"})
    assert core.read_namespaced_pod_log("c", "default") == "custom\n"
    journal = control(sim, "GET", "/_kubesim/journal")["entries"]
    assert any(e["path"] == "/api/v1/nodes" and e["status"] == 500 for e in journal)
    control(sim, "POST", "/_kubesim/reset", {})
    assert core.list_namespaced_pod("default").items == []


def test_bad_control_requests_are_400(sim):
    with pytest.raises(urllib.error.HTTPError) as err:
        control(sim, "POST", "/_kubesim/scenarios", {"scenario": "nonsense"})
    assert err.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as err:
        control(sim, "POST", "/_kubesim/faults", {"verb": "GET"})
    assert err.value.code == 400
