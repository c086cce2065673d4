"""``pods/exec`` over WebSocket with the real ``kubernetes.stream`` client (and raw frames)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import websocket
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from .helpers import pod_manifest, raw_request, wait_for


@pytest.fixture
def running(sim, core):
    core.create_namespaced_pod("default", pod_manifest("shell", image="alpine:3.20"))
    sim.advance(5)
    return "shell"


def open_exec(core, command, pod="shell", **kwargs):
    options = dict(stderr=True, stdin=False, stdout=True, tty=False)
    options.update(kwargs)
    return stream(core.connect_get_namespaced_pod_exec, pod, "default", command=command,
                  _preload_content=False, **options)


def finish(resp, timeout=10):
    resp.run_forever(timeout=timeout)
    assert not resp.is_open()
    return resp


def test_exit_status_and_separate_streams(core, running):
    resp = finish(open_exec(core, ["sh", "-c", "echo out; echo err >&2; exit 3"]))
    assert resp.subprotocol == "v5.channel.k8s.io"
    assert resp.read_stdout() == "out\n"
    assert resp.read_stderr() == "err\n"
    status = json.loads(resp.peek_channel(ERROR_CHANNEL))
    assert status == {
        "metadata": {}, "status": "Failure",
        "message": "command terminated with non-zero exit code: command terminated with "
                   "exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}
    assert resp.returncode == 3
    ok = finish(open_exec(core, ["true"]))
    assert json.loads(ok.peek_channel(ERROR_CHANNEL)) == {"metadata": {}, "status": "Success"}
    assert ok.returncode == 0


def test_preloaded_call_returns_output(core, running):
    out = stream(core.connect_get_namespaced_pod_exec, "shell", "default",
                 command=["sh", "-c", "printf 'a\\nb\\n'; echo e >&2"], stderr=True,
                 stdin=False, stdout=True, tty=False)
    assert out == "a\nb\ne\n"


def test_stdin_streams_until_the_v5_close_signal(core, running):
    payload = bytes(range(256)) * 4096 + b"tail"
    resp = open_exec(core, ["sh", "-c", "cat > /tmp/upload && sha256sum /tmp/upload && "
                                        "wc -c < /tmp/upload"], stdin=True, binary=True)
    for offset in range(0, len(payload), 100_000):
        resp.write_stdin(payload[offset:offset + 100_000])
    resp.close_channel(0)
    finish(resp)
    assert resp.read_stdout() == (f"{hashlib.sha256(payload).hexdigest()}  /tmp/upload\n"
                                  f"{len(payload)}\n").encode()
    assert resp.returncode == 0


def test_large_binary_output_arrives_intact(core, running, sim):
    data = sim.exec("default", "shell", ["sh", "-c", "head -c 3000000 /dev/urandom > /r && "
                                         "sha256sum /r"]).stdout.split()[0].decode()
    resp = open_exec(core, ["cat", "/r"], binary=True)
    chunks = []
    while resp.is_open():
        resp.update(timeout=5)
        chunks.append(resp.read_stdout() or b"")
    chunks.append(resp.read_stdout() or b"")
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == data
    assert resp.returncode == 0


def test_v4_protocol_reports_the_kubelet_wording(core, running):
    resp = finish(open_exec(core, ["sh", "-c", "exit 2"],
                            _headers={"sec-websocket-protocol": "v4.channel.k8s.io"}))
    assert resp.subprotocol == "v4.channel.k8s.io"
    status = json.loads(resp.peek_channel(ERROR_CHANNEL))
    assert status["message"] == ("command terminated with non-zero exit code: error executing "
                                 "command [sh -c exit 2], exit code 2")
    assert resp.returncode == 2


def test_apiserver_errors_come_before_the_upgrade(sim, core, running):
    with pytest.raises(ApiException) as missing:
        open_exec(core, ["true"], pod="ghost")
    assert "404" in missing.value.reason
    with pytest.raises(ApiException) as bad_container:
        stream(core.connect_get_namespaced_pod_exec, "shell", "default", command=["true"],
               container="nope", stderr=True, stdin=False, stdout=True, tty=False,
               _preload_content=False)
    assert "400" in bad_container.value.reason
    core.create_namespaced_pod("default", pod_manifest("stuck", image="kubesim/unschedulable"))
    sim.advance(1)
    with pytest.raises(ApiException) as unscheduled:
        open_exec(core, ["true"], pod="stuck")
    assert "400" in unscheduled.value.reason
    # The same checks answered as plain Status objects (what a SPDY fallback sees).
    response = raw_request(core.api_client, "POST",
                           "/api/v1/namespaces/default/pods/shell/exec",
                           query=[("command", "true"), ("container", "nope"),
                                  ("stdout", "true")])
    assert response.status == 400 and json.loads(response.read()) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "container nope is not valid for pod shell", "reason": "BadRequest",
        "code": 400}


def test_plain_request_without_upgrade_is_rejected(core, running):
    response = raw_request(core.api_client, "GET", "/api/v1/namespaces/default/pods/shell/exec",
                           query=[("command", "true"), ("stdout", "true")])
    assert response.status == 400
    assert json.loads(response.read())["message"] == "Upgrade request required"


def test_container_that_is_not_running_fails_on_the_status_channel(sim, core):
    core.create_namespaced_pod("default", pod_manifest("slow", image="kubesim/slow-start"))
    sim.advance(1)
    resp = finish(open_exec(core, ["true"], pod="slow"))
    status = json.loads(resp.peek_channel(ERROR_CHANNEL))
    assert status == {"metadata": {}, "status": "Failure",
                      "message": 'Internal error occurred: unable to upgrade connection: '
                                 'container not found ("main")',
                      "reason": "InternalError",
                      "details": {"causes": [{"message": 'unable to upgrade connection: '
                                                         'container not found ("main")'}]},
                      "code": 500}
    core.create_namespaced_pod("default", pod_manifest("done", image="kubesim/completes",
                                                       restart_policy="Never"))
    sim.advance(30)
    assert core.read_namespaced_pod("done", "default").status.phase == "Succeeded"
    resp = finish(open_exec(core, ["true"], pod="done"))
    assert "container not found" in json.loads(resp.peek_channel(ERROR_CHANNEL))["message"]


def test_missing_binary_fails_like_runc(core, running):
    resp = finish(open_exec(core, ["nosuch", "arg"]))
    status = json.loads(resp.peek_channel(ERROR_CHANNEL))
    assert status["reason"] == "InternalError" and status["code"] == 500
    assert status["message"].startswith(
        "Internal error occurred: Internal error occurred: error executing command in "
        "container: failed to exec in container: failed to start exec \"")
    assert status["message"].endswith(
        'OCI runtime exec failed: exec failed: unable to start container process: exec: '
        '"nosuch": executable file not found in $PATH: unknown')
    resp = finish(open_exec(core, ["/bin/nope"]))
    assert 'exec: "/bin/nope": stat /bin/nope: no such file or directory: unknown' in \
        json.loads(resp.peek_channel(ERROR_CHANNEL))["message"]
    # Inside a shell the same mistake is an ordinary exit status.
    resp = finish(open_exec(core, ["sh", "-c", "nosuch"]))
    assert (resp.returncode, resp.read_stderr()) == (127, "sh: nosuch: not found\n")


def test_session_is_killed_when_its_pod_goes_away(sim, core, running):
    resp = open_exec(core, ["sh", "-c", "echo started; sleep 600"])
    resp.update(timeout=5)
    assert resp.read_stdout() == "started\n"
    core.delete_namespaced_pod("shell", "default", grace_period_seconds=0)
    finish(resp)
    assert resp.returncode == 137


def test_tty_merges_streams_and_translates_newlines(core, running):
    resp = finish(open_exec(core, ["sh", "-c", "echo a; echo b >&2; printf \"$TERM\""],
                            tty=True, stderr=False))
    assert resp.read_stdout() == "a\r\nb\r\nxterm"


def test_interactive_shell_reads_commands_from_stdin(core, running):
    resp = open_exec(core, ["sh"], stdin=True)
    resp.write_stdin("x=41\n")
    resp.write_stdin("echo $((x + 1))\n")
    assert resp.readline_stdout(timeout=5) == "42"
    resp.write_stdin("exit 4\n")
    finish(resp)
    assert resp.returncode == 4


def _ws_url(sim, query: str) -> str:
    return sim.url.replace("http://", "ws://") + \
        "/api/v1/namespaces/default/pods/shell/exec?" + query


def test_legacy_and_base64_channel_protocols(sim, running):
    query = "command=sh&command=-c&command=echo%20hi%3B%20exit%205&stdout=true&stderr=true"
    conn = websocket.create_connection(_ws_url(sim, query), subprotocols=["channel.k8s.io"])
    frames = []
    while True:
        try:
            frames.append(conn.recv())
        except websocket.WebSocketConnectionClosedException:
            break
        if not conn.connected:
            break
    data = [f for f in frames if f]
    assert b"\x01hi\n" in data
    # v1 has no exit codes: only the error text on channel 3.
    assert [f for f in data if f[:1] == b"\x03"] == [
        b"\x03command terminated with non-zero exit code: error executing command "
        b"[sh -c echo hi; exit 5], exit code 5"]
    conn = websocket.create_connection(_ws_url(sim, query),
                                       subprotocols=["v4.base64.channel.k8s.io"])
    texts = []
    while conn.connected:
        try:
            texts.append(conn.recv())
        except websocket.WebSocketConnectionClosedException:
            break
    decoded = {(t[0], base64.b64decode(t[1:])) for t in texts if t}
    assert ("1", b"hi\n") in decoded
    assert json.loads(next(v for k, v in decoded if k == "3"))["details"]["causes"][0] == {
        "reason": "ExitCode", "message": "5"}


def test_exec_requests_are_journaled(sim, core, running):
    finish(open_exec(core, ["true"]))
    # The entry is written when the server side of the session has closed too.
    entries = wait_for(lambda: [e for e in sim.journal() if e["path"].endswith("/exec")])
    assert entries[-1]["status"] == 101 and entries[-1]["query"]["command"] == "true"
