"""The pod log subresource."""

from __future__ import annotations

import json
import threading

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from .helpers import pod_manifest, raw_request, status_of


@pytest.fixture
def running(core, sim):
    """A pod that has been running for 60 virtual seconds."""
    core.create_namespaced_pod("default", pod_manifest("app", image="nginx:1.27"))
    sim.advance(2)
    sim.advance(60)
    return "app"


def test_banner_and_periodic_lines(core, running):
    text = core.read_namespaced_pod_log(running, "default")
    lines = text.splitlines()
    assert lines[0] == "kubesim: starting container main from image nginx:1.27"
    assert len(lines) == 1 + 60 // 5
    assert lines[1].startswith("kubesim: container main is running (tick 1")
    assert text == core.read_namespaced_pod_log(running, "default")  # deterministic


def test_tail_lines_limit_bytes_and_timestamps(core, running):
    all_lines = core.read_namespaced_pod_log(running, "default").splitlines()
    tail = core.read_namespaced_pod_log(running, "default", tail_lines=2).splitlines()
    assert tail == all_lines[-2:]
    assert core.read_namespaced_pod_log(running, "default", limit_bytes=10) == all_lines[0][:10]
    stamped = core.read_namespaced_pod_log(running, "default", timestamps=True,
                                           tail_lines=1)
    stamp, _, text = stamped.rstrip("\n").partition(" ")
    assert text == all_lines[-1]
    assert stamp.endswith("Z") and len(stamp.split(".")[1]) == 10  # nanoseconds + Z


def test_since_seconds_and_since_time(api_client, core, running):
    # Lines are written every 5 s; the last one is "now", so 11 s reach back three lines.
    recent = core.read_namespaced_pod_log(running, "default", since_seconds=11).splitlines()
    assert len(recent) == 3
    stamped = core.read_namespaced_pod_log(running, "default", timestamps=True).splitlines()
    since_time = stamped[3].split(" ")[0]
    # CoreV1Api 37 has no since_time argument; send the query parameter directly.
    response = raw_request(api_client, "GET", f"/api/v1/namespaces/default/pods/{running}/log",
                           query=[("sinceTime", since_time)])
    assert response.read().decode().splitlines()[0] == stamped[3].split(" ", 1)[1]
    both = raw_request(api_client, "GET", f"/api/v1/namespaces/default/pods/{running}/log",
                       query=[("sinceTime", since_time), ("sinceSeconds", "5")])
    assert both.status == 422


@pytest.mark.parametrize("params", [{"tail_lines": -1}, {"limit_bytes": 0},
                                    {"since_seconds": 0}])
def test_invalid_log_options_are_422(core, running, params):
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(running, "default", **params)
    assert err.value.status == 422
    assert status_of(err.value)["details"]["kind"] == "PodLogOptions"


def test_log_errors(core, sim):
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("ghost", "default")
    assert err.value.status == 404
    two = pod_manifest("two")
    two["spec"]["containers"].append({"name": "side", "image": "busybox:1"})
    core.create_namespaced_pod("default", two)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("two", "default")
    assert err.value.status == 400
    assert status_of(err.value)["message"] == ("a container name must be specified for pod two, "
                                               "choose one of: [main side]")
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("two", "default", container="nope")
    assert status_of(err.value)["message"] == "container nope is not valid for pod two"
    # Not yet scheduled: the apiserver answers with an empty body.
    assert core.read_namespaced_pod_log("two", "default", container="main") == ""
    sim.advance(1)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("two", "default", container="main")
    assert err.value.status == 400
    assert status_of(err.value)["message"] == ('container "main" in pod "two" is waiting to '
                                               'start: ContainerCreating')
    sim.advance(5)
    assert core.read_namespaced_pod_log("two", "default", container="side").startswith(
        "kubesim: starting container side from image busybox:1")


def test_previous_requires_a_restart(core, sim):
    core.create_namespaced_pod("default", pod_manifest("crash", image="kubesim/crashloop"))
    sim.advance(3)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("crash", "default", previous=True)
    assert err.value.status == 400
    assert status_of(err.value)["message"] == ('previous terminated container "main" in pod '
                                               '"crash" not found')
    sim.advance(4)  # crashed once, restarted
    previous = core.read_namespaced_pod_log("crash", "default", previous=True)
    assert previous.splitlines()[-1] == "kubesim: container main exited with code 1 (Error)"
    current = core.read_namespaced_pod_log("crash", "default")
    assert current.splitlines() == ["kubesim: starting container main from image "
                                    "kubesim/crashloop"]


def test_set_logs(core, sim):
    core.create_namespaced_pod("default", pod_manifest("custom"))
    sim.advance(5)
    sim.set_logs("default", "custom", "line one\nline two\n")
    assert core.read_namespaced_pod_log("custom", "default") == "line one\nline two\n"
    assert core.read_namespaced_pod_log("custom", "default", tail_lines=1) == "line two\n"


def test_follow_streams_until_container_exits(core, sim):
    core.create_namespaced_pod("default", pod_manifest("f", image="kubesim/completes",
                                                       restart_policy="Never"))
    sim.advance(3)
    lines: list[str] = []
    first = threading.Event()

    def follow():
        for line in watch.Watch().stream(core.read_namespaced_pod_log, "f", "default"):
            lines.append(line)
            first.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    assert first.wait(10)
    sim.advance(10)  # the container exits after 5 s of running; the stream ends
    thread.join(10)
    assert not thread.is_alive()
    assert lines[0] == "kubesim: starting container f from image kubesim/completes".replace(
        "container f", "container main")
    assert lines[-1] == "kubesim: container main exited with code 0 (Completed)"


def test_logs_are_text_plain(api_client, core, sim):
    core.create_namespaced_pod("default", pod_manifest("plain"))
    sim.advance(5)
    response = raw_request(api_client, "GET", "/api/v1/namespaces/default/pods/plain/log")
    assert response.getheader("Content-Type").startswith("text/plain")
    error = raw_request(api_client, "GET", "/api/v1/namespaces/default/pods/plain/log",
                        query=[("tailLines", "-1")])
    assert error.getheader("Content-Type") == "application/json"
    assert json.loads(error.read())["code"] == 422
