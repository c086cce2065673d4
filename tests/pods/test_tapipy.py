"""The official client, unchanged, drives all 14 pod operations against a live server."""
import pytest
from tapipy.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from tapipy.tapis import Tapis

pytestmark = pytest.mark.live


@pytest.fixture
def tapis_for(transactional_db, live_server, token_for):
    def _client(username):
        return Tapis(base_url=live_server.url, tenant_id="dev", access_token=token_for(username))

    return _client


def test_every_pod_operation_through_tapipy(tapis_for):
    t, bob = tapis_for("alice"), tapis_for("bob")

    pod = t.pods.create_pod(pod_id="tapipod", image="kubesim/happy", description="via tapipy",
                            environment_variables={"PASS": "<<TAPIS_user_password>>"},
                            networking={"default": {"protocol": "http", "port": 8888}},
                            status_requested="OFF")
    assert (pod.pod_id, pod.status, pod.status_requested) == ("tapipod", "STOPPED", "OFF")
    assert pod.networking.default.url == "tapipod.pods.localhost"

    assert t.pods.get_pod(pod_id="tapipod").description == "via tapipy"
    assert [p.pod_id for p in t.pods.list_pods()] == ["tapipod"]

    updated = t.pods.update_pod(pod_id="tapipod", description="changed", resources={"cpu_limit": 3000})
    assert updated.description == "changed" and updated.resources.cpu_limit == 3000

    creds = t.pods.get_pod_credentials(pod_id="tapipod")
    assert creds.user_username == "tapipod" and len(creds.user_password) == 30
    derived = t.pods.get_derived_pod(pod_id="tapipod")
    assert derived.environment_variables.PASS == "<<TAPIS_user_password>>"

    perms = t.pods.set_pod_permission(pod_id="tapipod", user="bob", level="READ")
    assert perms.permissions == ["alice:ADMIN", "bob:READ"]
    assert t.pods.get_pod_permissions(pod_id="tapipod").permissions == ["alice:ADMIN", "bob:READ"]
    assert bob.pods.get_pod(pod_id="tapipod").pod_id == "tapipod"
    with pytest.raises(ForbiddenError):
        bob.pods.stop_pod(pod_id="tapipod")

    started = t.pods.start_pod(pod_id="tapipod")
    assert (started.status, started.status_requested) == ("REQUESTED", "ON")
    stopped = t.pods.stop_pod(pod_id="tapipod")
    assert stopped.status_requested == "OFF"
    restarted = t.pods.restart_pod(pod_id="tapipod", grab_latest_template_tag=True)
    assert restarted.status_requested == "RESTART"

    logs = t.pods.get_pod_logs(pod_id="tapipod")
    assert logs.logs == ""
    assert any("created by 'alice'" in line for line in logs.action_logs)
    assert any("RESTART" in line for line in logs.action_logs)

    remaining = t.pods.delete_pod_permission(pod_id="tapipod", user="bob")
    assert remaining.permissions == ["alice:ADMIN"]
    with pytest.raises(NotFoundError):
        bob.pods.get_pod(pod_id="tapipod")

    deleted = t.pods.delete_pod(pod_id="tapipod")  # result "" → tapipy hands back the envelope
    assert deleted["message"] == "Pod successfully deleted." and deleted["result"] == ""
    with pytest.raises(NotFoundError):
        t.pods.get_pod(pod_id="tapipod")
    assert t.pods.list_pods() == []


def test_tapipy_sees_errors_as_its_exceptions(tapis_for, live_server):
    t = tapis_for("alice")
    with pytest.raises(BadRequestError) as exc:
        t.pods.create_pod(pod_id="Bad-Id", image="kubesim/happy")
    assert "pod_id" in str(exc.value.message)
    t.pods.create_pod(pod_id="dupe", image="kubesim/happy")
    with pytest.raises(Exception) as exc:  # 409: tapipy has no class of its own for it
        t.pods.create_pod(pod_id="dupe", image="kubesim/happy")
    assert "already exists" in str(exc.value.message)
    anonymous = Tapis(base_url=live_server.url, tenant_id="dev", access_token=None)
    anonymous.access_token = None
    with pytest.raises(UnauthorizedError):
        anonymous.pods.list_pods(_tapis_headers={"X-Tapis-Token": ""})
