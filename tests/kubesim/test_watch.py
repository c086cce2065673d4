"""Watch semantics through ``kubernetes.watch.Watch``."""

from __future__ import annotations

import queue
import threading

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from .helpers import pod_manifest


def collect(stream, count):
    """The first ``count`` events of a stream (then the watch is stopped)."""
    events = []
    for event in stream:
        events.append(event)
        if len(events) == count:
            break
    return events


def test_initial_state_then_stop(core):
    core.create_namespaced_pod("default", pod_manifest("a"))
    core.create_namespaced_pod("default", pod_manifest("b"))
    w = watch.Watch()
    events = collect(w.stream(core.list_namespaced_pod, "default", timeout_seconds=30), 2)
    w.stop()
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "a"),
                                                                          ("ADDED", "b")]


def test_resume_from_resource_version(core):
    start = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", pod_manifest("r"))
    core.patch_namespaced_pod("r", "default", {"metadata": {"labels": {"x": "y"}}})
    core.delete_namespaced_pod("r", "default", grace_period_seconds=0)
    w = watch.Watch()
    events = collect(w.stream(core.list_namespaced_pod, "default", resource_version=start,
                              timeout_seconds=30), 3)
    w.stop()
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    rvs = [int(e["object"].metadata.resource_version) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(start)
    assert events[1]["object"].metadata.labels == {"x": "y"}


def test_live_events_and_kubelet_progress(core, sim):
    start = core.list_namespaced_pod("default").metadata.resource_version
    got: queue.Queue = queue.Queue()
    w = watch.Watch()

    def run():
        for event in w.stream(core.list_namespaced_pod, "default", resource_version=start,
                              timeout_seconds=30):
            got.put((event["type"], event["object"].status.phase))
            if event["object"].status.phase == "Running":
                break  # ends the stream cleanly from the consuming thread

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    core.create_namespaced_pod("default", pod_manifest("live"))
    assert got.get(timeout=10) == ("ADDED", "Pending")
    # Requests keep flowing while the watch is open.
    assert core.read_namespaced_pod("live", "default").status.phase == "Pending"
    sim.advance(5)
    phases = []
    while "Running" not in phases:
        kind, phase = got.get(timeout=10)
        assert kind == "MODIFIED"
        phases.append(phase)
    thread.join(10)
    assert not thread.is_alive()


def test_selector_transitions(core):
    core.create_namespaced_pod("default", pod_manifest("s", labels={"app": "x"}))
    start = core.list_namespaced_pod("default").metadata.resource_version
    core.patch_namespaced_pod("s", "default", {"metadata": {"labels": {"app": "y"}}})
    core.patch_namespaced_pod("s", "default", {"metadata": {"labels": {"app": "x"}}})
    core.patch_namespaced_pod("s", "default", {"metadata": {"annotations": {"k": "v"}}})
    w = watch.Watch()
    events = collect(w.stream(core.list_namespaced_pod, "default", label_selector="app=x",
                              resource_version=start, timeout_seconds=30), 3)
    w.stop()
    assert [e["type"] for e in events] == ["DELETED", "ADDED", "MODIFIED"]


def test_bookmarks_on_timeout(core):
    start = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "unrelated"}})
    w = watch.Watch()
    events = list(w.stream(core.list_namespaced_pod, "default", resource_version=start,
                           allow_watch_bookmarks=True, timeout_seconds=1))
    assert events and events[-1]["type"] == "BOOKMARK"
    bookmark = events[-1]["object"]  # a raw dict, as the client yields bookmarks
    assert bookmark["kind"] == "Pod"
    assert int(bookmark["metadata"]["resourceVersion"]) > int(start)


def test_send_initial_events_bookmark(api_client, core):
    from .helpers import raw_request
    core.create_namespaced_pod("default", pod_manifest("i"))
    response = raw_request(api_client, "GET", "/api/v1/namespaces/default/pods", query=[
        ("watch", "true"), ("sendInitialEvents", "true"), ("allowWatchBookmarks", "true"),
        ("resourceVersionMatch", "NotOlderThan"), ("timeoutSeconds", "1")])
    import json
    lines = [json.loads(line) for line in response.read().splitlines()]
    assert lines[0]["type"] == "ADDED"
    assert lines[1]["type"] == "BOOKMARK"
    assert lines[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_too_old_resource_version_is_410(core, sim):
    old = core.list_namespaced_pod("default").metadata.resource_version
    sim.reset()  # compacts the watch history
    w = watch.Watch()
    with pytest.raises(ApiException) as err:
        list(w.stream(core.list_namespaced_pod, "default", resource_version=old,
                      timeout_seconds=5))
    assert err.value.status == 410
    assert "too old resource version" in str(err.value.reason)


def test_watch_events_with_field_selector(core, sim):
    core.create_namespaced_pod("default", pod_manifest("ev"))
    core.create_namespaced_pod("default", pod_manifest("other"))
    sim.advance(5)
    w = watch.Watch()
    events = collect(w.stream(core.list_namespaced_event, "default",
                              field_selector="involvedObject.name=ev", timeout_seconds=30), 5)
    w.stop()
    assert {e["object"].reason for e in events} == {"Scheduled", "Pulling", "Pulled", "Created",
                                                    "Started"}


def test_graceful_delete_is_modified_then_deleted(core, sim):
    core.create_namespaced_pod("default", pod_manifest("g"))
    sim.advance(5)
    start = core.read_namespaced_pod("g", "default").metadata.resource_version
    deleted = core.delete_namespaced_pod("g", "default")
    assert deleted.metadata.deletion_timestamp is not None
    assert deleted.metadata.deletion_grace_period_seconds == 30
    sim.advance(1)
    w = watch.Watch()
    events = collect(w.stream(core.list_namespaced_pod, "default", resource_version=start,
                              timeout_seconds=30), 3)
    w.stop()
    assert [e["type"] for e in events] == ["MODIFIED", "MODIFIED", "DELETED"]
    assert events[0]["object"].metadata.deletion_timestamp is not None
    final = events[-1]["object"]
    assert final.status.container_statuses[0].state.terminated.exit_code == 0
