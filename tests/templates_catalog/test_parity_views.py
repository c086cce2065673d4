"""get_pod's ``?include_configs``, ``?derived_lite``, ``?derived`` and ``GET /pods/{id}/overrides``,
as upstream's ``tests/test_get_pod_derived.py`` and ``tests/test_pod_overrides.py`` describe them."""
import json

import pytest


@pytest.fixture
def templated(tenant, client_for, make_template, publish):
    template = make_template("webtpl", owner="alice")
    publish(template, {"image": "kubesim/happy", "environment_variables": {"MODE": "tpl", "PW": "<<TAPIS_user_password>>"},
                       "resources": {"cpu_limit": 3000}})
    alice = client_for("alice")
    body = {"pod_id": "mypod", "template": "webtpl", "environment_variables": {"MINE": "1"},
            "resources": {"mem_limit": 4096},
            "volume_mounts": {"/etc/app.ini": {"type": "ephemeral", "config_content": "token=abc\n"}}}
    response = alice.post("/v3/pods", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.json()
    return alice


def test_plain_get_pod_redacts_file_contents(templated):
    pod = templated.get("/v3/pods/mypod").json()["result"]
    assert pod["volume_mounts"]["/etc/app.ini"]["config_content"] == "<redacted>"


def test_include_configs_shows_them_to_a_pod_user_only(templated, client_for):
    pod = templated.get("/v3/pods/mypod?include_configs=true").json()["result"]
    assert pod["volume_mounts"]["/etc/app.ini"]["config_content"] == "token=abc\n"
    templated.post("/v3/pods/mypod/permissions", {"user": "rita", "level": "READ"}, format="json")
    refused = client_for("rita").get("/v3/pods/mypod?include_configs=true")
    assert refused.status_code == 403 and "USER" in refused.json()["message"]


def test_derived_lite_merges_and_keeps_modified_fields(templated, client_for):
    templated.post("/v3/pods/mypod/permissions", {"user": "rita", "level": "READ"}, format="json")
    body = client_for("rita").get("/v3/pods/mypod?derived_lite=true").json()
    pod = body["result"]
    assert pod["environment_variables"] == {"MODE": "tpl", "PW": "<<TAPIS_user_password>>", "MINE": "1"}
    assert pod["resources"]["cpu_limit"] == 3000 and pod["resources"]["mem_limit"] == 4096
    assert "environment_variables.MINE" in pod["modified_fields"] and "resources.mem_limit" in pod["modified_fields"]
    assert body["metadata"]["derived"] == "lite" and body["metadata"]["unresolved_placeholders"] == ["user_password"]
    assert pod["volume_mounts"]["/etc/app.ini"]["config_content"] == "<redacted>"


def test_derived_resolves_credentials_for_a_pod_admin_only(templated, client_for):
    from pods.models import Pod

    password = Pod.objects.get(pod_id="mypod").credentials.user_password
    pod = templated.get("/v3/pods/mypod?derived=true").json()["result"]
    assert pod["environment_variables"]["PW"] == password
    templated.post("/v3/pods/mypod/permissions", {"user": "uma", "level": "USER"}, format="json")
    refused = client_for("uma").get("/v3/pods/mypod?derived=true")
    assert refused.status_code == 403 and password not in refused.content.decode()


def test_overrides_shows_only_the_users_layer(templated, client_for):
    body = templated.get("/v3/pods/mypod/overrides").json()
    result = body["result"]
    assert result["pod_id"] == "mypod" and result["template"].startswith("webtpl:latest@")
    assert result["status"] == "REQUESTED"
    assert result["overrides"]["environment_variables"] == {"MINE": "1"}
    assert result["overrides"]["resources"] == {"mem_limit": 4096}
    assert result["overrides"]["volume_mounts"]["/etc/app.ini"]["config_content"] == "<redacted>"
    assert result["overrides"]["template"] == result["template"]
    assert "image" not in result["overrides"] and "networking" not in result["overrides"]
    assert client_for("stranger").get("/v3/pods/mypod/overrides").status_code == 404


def test_overrides_of_a_pod_without_template(tenant, client_for):
    alice = client_for("alice")
    alice.post("/v3/pods", json.dumps({"pod_id": "plain", "image": "kubesim/happy", "command": ["sleep", "1"]}),
               content_type="application/json")
    result = alice.get("/v3/pods/plain/overrides").json()["result"]
    assert result["template"] is None
    assert result["overrides"] == {"image": "kubesim/happy", "command": ["sleep", "1"]}


def test_provenance_follows_the_ledger(templated):
    body = templated.get("/v3/pods/mypod/provenance").json()["result"]
    fields = body["fields"]
    assert fields["image"] == {"source": "template", "in_modified_fields": False, "template_provides": True,
                               "pod_value": None, "template_value": "kubesim/happy", "derived_value": "kubesim/happy"}
    assert fields["environment_variables"]["source"] == "pod"
    assert fields["environment_variables"]["pod_value"] == {"MINE": "1"}
    assert fields["resources"]["source"] == "pod" and fields["resources"]["template_value"] == {"cpu_limit": 3000}
    # Networking holds a non-empty default on the row: still "default", not "pod".
    assert fields["networking"]["source"] == "default" and fields["compute_queue"]["source"] == "default"
    assert fields["volume_mounts"]["pod_value"]["/etc/app.ini"]["config_content"] == "<redacted>"
    assert body["summary"]["pod"] == 3 and body["template_chain"][0].startswith("webtpl:latest@")
