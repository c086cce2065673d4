"""Pod CRUD and lifecycle requests through the API: what is stored, shown and recorded."""
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from pods.choices import PodStatus
from pods.lifecycle import transition
from pods.models import Pod, PodEvent, PodEventKind, PodLogRun, PodPermission
from pods.models.pods import k8s_name

RESPONSE_FIELDS = {  # tapipy's PodResponseModel, exactly
    "pod_id", "image", "template", "description", "command", "arguments", "environment_variables",
    "status_requested", "volume_mounts", "time_to_stop_default", "time_to_stop_instance", "networking",
    "resources", "compute_queue", "time_to_stop_ts", "status", "status_container", "creation_ts",
    "update_ts", "start_instance_ts",
    "secret_map", "healthchecks", "networking_live",  # parity2
}
# Beyond tapipy's model (tapipy keeps unknown fields): upstream's user guide shows both.
GUIDE_FIELDS = {"pod_template", "url"}
NAIVE_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")


def create(client, **fields):
    fields.setdefault("pod_id", "mypod")
    fields.setdefault("image", "kubesim/happy")
    return client.post("/v3/pods", fields, format="json")


def test_create_returns_the_pod_as_tapipy_expects(tenant, alice):
    response = create(alice, description="my service", command=["sleep", "5000"],
                      environment_variables={"MODE": "dev"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["message"] == "Pod created successfully."
    pod = body["result"]
    assert set(pod) == RESPONSE_FIELDS | GUIDE_FIELDS
    assert pod["url"] == "mypod.pods.localhost" and pod["pod_template"] == ""
    assert pod["status"] == "REQUESTED" and pod["status_requested"] == "ON"
    assert pod["command"] == ["sleep", "5000"] and pod["arguments"] is None
    assert pod["resources"] == {"cpu_request": 250, "cpu_limit": 2000, "mem_request": 256,
                                "mem_limit": 3072, "gpus": 0, "ephemeral_storage_request": -1,
                                "ephemeral_storage_limit": -1}
    assert pod["networking"]["default"]["url"] == "mypod.pods.localhost"
    assert pod["networking"]["default"]["port"] == 5000
    assert NAIVE_UTC.match(pod["creation_ts"]) and NAIVE_UTC.match(pod["update_ts"])
    assert pod["time_to_stop_ts"] is None and pod["start_instance_ts"] is None


def test_spec_response_model_matches_what_we_render():
    import pathlib

    import tapipy
    import yaml

    spec = yaml.safe_load((pathlib.Path(tapipy.__file__).parent / "resources/openapi_v3-pods.yml").read_text())
    # parity2: upstream's newer secret_map and healthchecks are beyond tapipy 25.4.0's spec.
    assert set(spec["components"]["schemas"]["PodResponseModel"]["properties"]) == RESPONSE_FIELDS - {
        "secret_map", "healthchecks", "networking_live"}


def test_creator_becomes_admin_and_creation_is_logged(tenant, alice):
    create(alice)
    pod = Pod.objects.get(pod_id="mypod")
    assert [p.as_wire() for p in pod.permissions.all()] == ["alice:ADMIN"]
    event = PodEvent.objects.get(pod=pod)
    assert (event.kind, event.actor, event.to_status) == (PodEventKind.CREATED, "alice", "REQUESTED")
    assert "Pod object created by 'alice'" in event.message


@pytest.mark.parametrize("requested,status,stored", [("ON", "REQUESTED", "ON"), ("OFF", "STOPPED", "OFF"),
                                                     ("RESTART", "REQUESTED", "ON")])
def test_create_status_follows_status_requested(tenant, alice, requested, status, stored):
    pod = create(alice, status_requested=requested).json()["result"]
    assert (pod["status"], pod["status_requested"]) == (status, stored)


def test_urls_per_networking_entry(tenant, other_tenant, alice, client_for):
    pod = create(alice, networking={"default": {"port": 8888}, "api": {"port": 5000, "protocol": "tcp"}}
                 ).json()["result"]
    assert pod["networking"]["default"]["url"] == "mypod.pods.localhost"
    assert pod["networking"]["api"]["url"] == "mypod-api.pods.localhost"
    assert pod["networking"]["api"]["protocol"] == "tcp"
    other = create(client_for("alice", in_tenant=other_tenant), networking={"web": {}}).json()["result"]
    assert other["networking"] == {"web": {**other["networking"]["web"], "url": "mypod-web.pods.other.example.org"}}


def test_sent_url_is_replaced_by_the_generated_one(tenant, alice):
    pod = create(alice, networking={"default": {"url": "evil.example.com"}}).json()["result"]
    assert pod["networking"]["default"]["url"] == "mypod.pods.localhost"


def test_k8_name_is_deterministic_dns_1123_and_at_most_63(make_pod):
    pod = make_pod("mypod")
    assert pod.k8_name == "pods-local-dev-mypod"
    long_id = "p" + "x" * 63
    name = k8s_name("local", "dev", long_id)
    assert len(name) == 63 and re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name)
    assert name == k8s_name("local", "dev", long_id)
    assert name != k8s_name("local", "dev", "p" + "x" * 62 + "y")


def test_uid_identifies_the_row_and_a_recreated_pod_gets_a_new_one(tenant, alice):
    create(alice)
    first = Pod.objects.get(pod_id="mypod")
    alice.delete("/v3/pods/mypod")
    create(alice)
    second = Pod.objects.get(pod_id="mypod")
    assert first.uid != second.uid and isinstance(second.uid, uuid.UUID)
    assert first.k8_name == second.k8_name  # the worker tells them apart by uid


def test_delete_frees_the_id_at_once_and_keeps_an_audit_event(tenant, alice):
    create(alice, environment_variables={"K": "v"})
    old = Pod.objects.get(pod_id="mypod")
    response = alice.delete("/v3/pods/mypod")
    assert response.status_code == 200
    assert response.json()["result"] == "" and response.json()["message"] == "Pod successfully deleted."
    assert not Pod.objects.filter(pod_id="mypod").exists()
    assert not PodPermission.objects.filter(pod_id=old.pk).exists()
    assert alice.get("/v3/pods/mypod").status_code == 404
    deleted = PodEvent.objects.get(pod_uid=old.uid, kind=PodEventKind.DELETED)
    assert deleted.pod is None and deleted.pod_name == "mypod" and deleted.actor == "alice"
    # A new pod with the same id starts with a clean history.
    assert create(alice).status_code == 200
    logs = alice.get("/v3/pods/mypod/logs").json()["result"]["action_logs"]
    assert len(logs) == 1 and "created" in logs[0]


def test_start_only_from_stopped(tenant, alice):
    create(alice, status_requested="OFF")
    response = alice.get("/v3/pods/mypod/start")
    assert response.status_code == 200
    assert response.json()["message"] == "Updated pod's status_requested to ON and requested pod."
    assert (response.json()["result"]["status"], response.json()["result"]["status_requested"]) == ("REQUESTED", "ON")
    again = alice.get("/v3/pods/mypod/start")
    assert again.status_code == 409
    assert "REQUESTED" in again.json()["message"] and again.json()["metadata"]["status"] == "REQUESTED"


@pytest.mark.parametrize("status", [PodStatus.CREATING, PodStatus.AVAILABLE, PodStatus.ERROR, PodStatus.DELETING])
def test_start_of_a_non_stopped_pod_is_409_naming_the_status(tenant, alice, status):
    create(alice)
    pod = Pod.objects.get(pod_id="mypod")
    path = {PodStatus.CREATING: [PodStatus.CREATING], PodStatus.AVAILABLE: [PodStatus.AVAILABLE],
            PodStatus.ERROR: [PodStatus.ERROR], PodStatus.DELETING: [PodStatus.DELETING]}[status]
    for step in path:
        assert transition(pod, to=step)
    response = alice.get("/v3/pods/mypod/start")
    assert response.status_code == 409
    assert status.value in response.json()["message"]


def test_stop_and_restart_set_the_requested_status(tenant, alice):
    create(alice)
    stop = alice.get("/v3/pods/mypod/stop").json()
    assert stop["message"] == "Updated pod's status_requested to OFF."
    assert stop["result"]["status_requested"] == "OFF"
    restart = alice.get("/v3/pods/mypod/restart?grab_latest_template_tag=True").json()
    assert restart["message"] == "Updated pod's status_requested to RESTART."
    assert Pod.objects.get(pod_id="mypod").status_requested == "RESTART"
    kinds = list(PodEvent.objects.filter(pod__pod_id="mypod").values_list("kind", flat=True))
    assert kinds == ["created", "requested", "requested"]


def test_update_applies_only_the_fields_sent(tenant, alice):
    create(alice, description="before", environment_variables={"A": "1"}, command=["run"])
    response = alice.put("/v3/pods/mypod", {"description": "after"}, format="json")
    body = response.json()
    assert body["message"] == "Pod updated successfully."
    assert body["result"]["description"] == "after"
    assert body["result"]["environment_variables"] == {"A": "1"} and body["result"]["command"] == ["run"]
    assert body["metadata"]["changed_fields"] == ["description"]
    assert body["metadata"]["restart_required"] is False


def test_update_says_which_changes_need_a_restart(tenant, alice):
    create(alice)
    body = alice.put("/v3/pods/mypod", {"description": "x", "environment_variables": {"B": "2"},
                                         "networking": {"default": {"port": 8000}}}, format="json").json()
    assert body["metadata"]["restart_required"] is True
    assert body["metadata"]["restart_fields"] == ["environment_variables", "networking"]
    assert body["result"]["networking"]["default"]["url"] == "mypod.pods.localhost"


def test_update_merges_resources_key_by_key(tenant, alice):
    create(alice, resources={"cpu_limit": 3000, "mem_limit": 4000})
    body = alice.put("/v3/pods/mypod", {"resources": {"cpu_request": 500}}, format="json").json()
    assert body["result"]["resources"] == {"cpu_request": 500, "cpu_limit": 3000, "mem_request": 256,
                                           "mem_limit": 4000, "gpus": 0, "ephemeral_storage_request": -1,
                                           "ephemeral_storage_limit": -1}


def test_no_op_update_says_so_with_status_success(tenant, alice):
    create(alice, description="same")
    before = Pod.objects.get(pod_id="mypod").update_ts
    body = alice.put("/v3/pods/mypod", {"description": "same", "resources": {}}, format="json").json()
    assert body["status"] == "success"
    assert "no changes" in body["message"]
    assert body["metadata"]["changed_fields"] == []
    assert Pod.objects.get(pod_id="mypod").update_ts == before
    assert not PodEvent.objects.filter(kind=PodEventKind.UPDATED).exists()


def test_update_event_hides_environment_values(tenant, alice):
    create(alice)
    alice.put("/v3/pods/mypod", {"environment_variables": {"TOKEN": "s3cr3t-value"}, "description": "d"},
              format="json")
    event = PodEvent.objects.get(kind=PodEventKind.UPDATED)
    assert "environment_variables" in event.message and "s3cr3t-value" not in event.message
    assert "description='d'" in event.message


def test_update_of_time_to_stop_instance_moves_the_running_deadline(tenant, alice):
    create(alice)
    pod = Pod.objects.get(pod_id="mypod")
    started = timezone.now() - timedelta(minutes=5)
    Pod.objects.filter(pk=pod.pk).update(start_instance_ts=started)
    body = alice.put("/v3/pods/mypod", {"time_to_stop_instance": 3600}, format="json").json()
    assert Pod.objects.get(pk=pod.pk).time_to_stop_ts == started + timedelta(seconds=3600)
    assert body["result"]["time_to_stop_ts"] is not None
    alice.put("/v3/pods/mypod", {"time_to_stop_instance": -1}, format="json")
    assert Pod.objects.get(pk=pod.pk).time_to_stop_ts is None


def test_update_of_status_requested_is_recorded(tenant, alice):
    create(alice)
    body = alice.put("/v3/pods/mypod", {"status_requested": "OFF"}, format="json").json()
    assert body["result"]["status_requested"] == "OFF"


def test_derived_pod_leaves_credential_placeholders_unless_an_admin_resolves(tenant, alice, client_for):
    create(alice, environment_variables={"PASSWORD": "<<TAPIS_user_password>>", "USER": "<<tapissecret_user_username>>"},
           command=["serve", "--admin=<<TAPIS_admin_username>>", "<<TAPIS_nonexistent>>"])
    PodPermission.objects.create(pod=Pod.objects.get(pod_id="mypod"), username="uma", level=2)
    plain = alice.get("/v3/pods/mypod/derived").json()
    assert plain["message"] == "Final derived pod retrieved successfully."
    assert plain["result"]["environment_variables"]["PASSWORD"] == "<<TAPIS_user_password>>"
    assert plain["metadata"]["credentials_resolved"] is False
    assert set(plain["metadata"]["unresolved_placeholders"]) == {"user_password", "user_username",
                                                                  "admin_username", "nonexistent"}
    password = alice.get("/v3/pods/mypod/credentials").json()["result"]["user_password"]
    resolved = alice.get("/v3/pods/mypod/derived?resolve_secrets=True").json()
    assert resolved["result"]["environment_variables"] == {"PASSWORD": password, "USER": "mypod"}
    assert resolved["result"]["command"] == ["serve", "--admin=podsservice", "<<TAPIS_nonexistent>>"]
    assert resolved["metadata"]["unresolved_placeholders"] == ["nonexistent"]
    assert client_for("uma").get("/v3/pods/mypod/derived?resolve_secrets=true").status_code == 403
    assert client_for("uma").get("/v3/pods/mypod/derived?resolve_secrets=False").status_code == 200


def test_logs_show_the_newest_run_and_previous_runs_on_request(tenant, alice):
    create(alice)
    pod = Pod.objects.get(pod_id="mypod")
    logs = alice.get("/v3/pods/mypod/logs").json()
    assert logs["result"]["logs"] == "" and logs["metadata"]["runs"] == []
    old = PodLogRun.objects.create(pod=pod, instance_id=uuid.uuid4(), text="first run\n", bytes=10,
                                   started_at=timezone.now() - timedelta(hours=1))
    PodLogRun.objects.create(pod=pod, instance_id=uuid.uuid4(), text="second run\n", bytes=11, truncated=True)
    body = alice.get("/v3/pods/mypod/logs").json()
    assert body["result"]["logs"] == "second run\n"
    assert body["metadata"]["run"]["truncated"] is True
    assert len(body["metadata"]["runs"]) == 2 and "text" not in body["metadata"]["runs"][0]
    assert alice.get("/v3/pods/mypod/logs?run=previous").json()["result"]["logs"] == "first run\n"
    assert alice.get(f"/v3/pods/mypod/logs?run={old.instance_id}").json()["result"]["logs"] == "first run\n"
    assert alice.get("/v3/pods/mypod/logs?run=nope").status_code == 400


def test_action_logs_follow_upstream_format(tenant, alice):
    create(alice)
    alice.get("/v3/pods/mypod/stop")
    lines = alice.get("/v3/pods/mypod/logs").json()["result"]["action_logs"]
    assert all(re.match(r"^\d\d/\d\d/\d\d \d\d:\d\d: ", line) for line in lines)
    assert lines[-1].endswith("alice set status_requested to OFF")


def test_admin_mode_actions_are_marked_in_events(tenant, alice, client_for):
    create(alice)
    client_for("boss", admin_mode=True).get("/v3/pods/mypod/stop")
    assert PodEvent.objects.filter(kind=PodEventKind.REQUESTED).get().actor == "ADMIN boss"


def test_unknown_pod_is_404_for_every_verb(tenant, alice):
    for method, suffix in (("get", ""), ("put", ""), ("delete", ""), ("get", "/logs"), ("get", "/start")):
        response = getattr(alice, method)(f"/v3/pods/nosuchpod{suffix}", {}, format="json")
        assert response.status_code == 404
        assert response.json()["message"] == "Pod with identifier pod_id: 'nosuchpod' not found."


def test_trailing_slash_and_unknown_subpaths_are_envelope_404s(tenant, alice):
    create(alice)
    for path in ("/v3/pods/mypod/", "/v3/pods/mypod/nonsense", "/v3/pods/"):
        response = alice.get(path)
        assert response.status_code == 404 and response.json()["status"] == "error"


def test_patch_is_not_an_operation(tenant, alice):
    create(alice)
    assert alice.patch("/v3/pods/mypod", {"description": "x"}, format="json").status_code == 405
