"""What a USER of a pod may not do through the back door, and what no endpoint may show
(security findings 6 and 7)."""
import pytest

from pods.choices import RequestedStatus
from pods.models import Pod

pytestmark = pytest.mark.django_db


@pytest.fixture
def pod(make_pod, alice):
    pod = make_pod("mypod", owner="alice")
    for user, level in (("bob", "USER"), ("carol", "READ")):
        assert alice.post("/v3/pods/mypod/permissions", {"user": user, "level": level},
                          format="json").status_code == 200
    return pod


def put(client, **fields):
    return client.put("/v3/pods/mypod", fields, format="json")


# --- Desired state needs ADMIN through every route ----------------------------------------------

@pytest.mark.parametrize("wanted", ["OFF", "RESTART"])
def test_a_user_cannot_change_desired_state_through_update(pod, bob, wanted):
    assert bob.get("/v3/pods/mypod/stop").status_code == 403  # as the lifecycle verbs refuse
    response = put(bob, status_requested=wanted)
    assert response.status_code == 403, response.content
    assert "status_requested needs ADMIN" in response.json()["message"]
    assert Pod.objects.get(pk=pod.pk).status_requested == RequestedStatus.ON


def test_a_user_may_still_update_other_fields_and_resend_the_same_state(pod, bob):
    response = put(bob, description="new", status_requested="ON")
    assert response.status_code == 200, response.content
    assert response.json()["metadata"]["changed_fields"] == ["description"]


def test_an_admin_changes_desired_state_through_update(pod, alice):
    assert put(alice, status_requested="OFF").status_code == 200
    assert Pod.objects.get(pk=pod.pk).status_requested == RequestedStatus.OFF


# --- Placeholders resolve only for authors who may read the credential ------------------------

def resolved_env(client):
    response = client.get("/v3/pods/mypod/derived?resolve_secrets=true")
    assert response.status_code == 200, response.content
    return response.json()["result"]["environment_variables"], response.json()["metadata"]


def test_a_user_cannot_pull_the_admin_password_through_a_placeholder(pod, alice, bob):
    response = put(bob, environment_variables={"STOLEN": "<<TAPIS_admin_password>>",
                                               "MINE": "<<TAPIS_user_password>>"})
    assert response.status_code == 200, response.content
    assert response.json()["metadata"]["placeholders_withheld"] == ["environment_variables.STOLEN: admin_password"]
    env, metadata = resolved_env(alice)
    credentials = Pod.objects.get(pk=pod.pk).credentials
    assert env["STOLEN"] == "<<TAPIS_admin_password>>"  # left as written, for the container too
    assert credentials.admin_password not in str(env)
    assert env["MINE"] == credentials.user_password  # USER may read the user account
    assert metadata["placeholders_withheld"] == ["environment_variables.STOLEN: admin_password"]


def test_an_admin_vouches_for_a_value_by_setting_it_again(pod, alice, bob):
    put(bob, environment_variables={"DB": "neo4j/<<TAPIS_admin_password>>"})
    assert resolved_env(alice)[0]["DB"] == "neo4j/<<TAPIS_admin_password>>"
    response = put(alice, environment_variables={"DB": "neo4j/<<TAPIS_admin_password>>"})
    assert "placeholders_withheld" not in response.json()["metadata"]
    password = Pod.objects.get(pk=pod.pk).credentials.admin_password
    assert resolved_env(alice)[0]["DB"] == f"neo4j/{password}"


def test_a_user_resending_an_admins_value_unchanged_keeps_it_the_admins(make_pod, alice, bob):
    make_pod("mypod", owner="alice", environment_variables={"DB": "<<TAPIS_admin_password>>"},
             command=["run", "--password=<<TAPIS_admin_password>>"])
    alice.post("/v3/pods/mypod/permissions", {"user": "bob", "level": "USER"}, format="json")
    assert put(bob, environment_variables={"DB": "<<TAPIS_admin_password>>", "NEW": "x"},
               command=["run", "--password=<<TAPIS_admin_password>>"]).status_code == 200
    env, metadata = resolved_env(alice)
    assert env["DB"] != "<<TAPIS_admin_password>>" and metadata["placeholders_withheld"] == []
    # But a command the USER changes is the USER's.
    put(bob, command=["other", "<<TAPIS_admin_password>>"])
    assert resolved_env(alice)[1]["placeholders_withheld"] == ["command: admin_password"]


# --- /derived shows what get_pod shows --------------------------------------------------------

def test_derived_redacts_file_contents_as_get_pod_does(make_pod, alice, client_for):
    make_pod("mypod", owner="alice", volume_mounts={
        "/etc/app.conf": {"type": "ephemeral", "config_content": "password=<<TAPIS_user_password>>\n"}})
    alice.post("/v3/pods/mypod/permissions", {"user": "carol", "level": "READ"}, format="json")
    for client in (client_for("carol"), alice):
        shown = client.get("/v3/pods/mypod").json()["result"]["volume_mounts"]["/etc/app.conf"]
        derived = client.get("/v3/pods/mypod/derived").json()["result"]["volume_mounts"]["/etc/app.conf"]
        assert shown["config_content"] == derived["config_content"] == "<redacted>"
    resolved = alice.get("/v3/pods/mypod/derived?resolve_secrets=true").json()["result"]
    assert resolved["volume_mounts"]["/etc/app.conf"]["config_content"] == "<redacted>"
