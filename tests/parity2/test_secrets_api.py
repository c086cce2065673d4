"""The secrets API (upstream's /v3/pods/secrets): metadata only, the value once, permissions,
action logs, tenant isolation; and pods' secret_map checked when written."""
import json

import pytest

from pods.models import PodSecret, StorageEvent

pytestmark = pytest.mark.django_db

VALUE = "s3cr3t-Value-which-never-leaks"


def create(client, secret_id="dbpass", value=VALUE, **extra):
    return client.post("/v3/pods/secrets", {"secret_id": secret_id, "secret_value": value, **extra}, format="json")


def test_create_returns_metadata_and_never_the_value(alice):
    response = create(alice, description="db password")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Secret created successfully."
    assert body["result"]["secret_id"] == "dbpass" and body["result"]["added_by"] == "alice"
    assert body["result"]["sk_secret_name"].endswith("_user+alice+dbpass")
    assert VALUE not in response.content.decode()
    stored = PodSecret.objects.get(secret_id="dbpass")
    assert VALUE not in stored.value_encrypted and stored.value == VALUE
    for path in ("/v3/pods/secrets", "/v3/pods/secrets/dbpass", "/v3/pods/secrets/dbpass/permissions"):
        assert VALUE not in alice.get(path).content.decode()


def test_value_is_returned_by_get_secret_value_only(alice):
    create(alice)
    response = alice.get("/v3/pods/secrets/dbpass/value")
    assert response.status_code == 200
    assert response.json()["result"] == {"secret_value": VALUE}
    assert response.json()["message"] == "Secret value retrieved successfully."
    logs = alice.get("/v3/pods/secrets/dbpass").json()["metadata"]["action_logs"]
    assert any("read the value" in line for line in logs) and not any(VALUE in line for line in logs)


def test_unreadable_secret_refuses_its_value_and_logs_it(alice):
    create(alice, readable=False)
    response = alice.get("/v3/pods/secrets/dbpass/value")
    assert response.status_code == 403 and "readable=False" in response.json()["message"]
    assert "secret_map" in response.json()["message"]
    assert StorageEvent.objects.filter(object_type="secret", message__contains="refused").exists()


def test_write_once_secret_keeps_its_value_but_takes_a_description(alice):
    create(alice, writable=False)
    assert alice.put("/v3/pods/secrets/dbpass", {"secret_value": "new"}, format="json").status_code == 403
    response = alice.put("/v3/pods/secrets/dbpass", {"description": "d2"}, format="json")
    assert response.status_code == 200 and response.json()["result"]["description"] == "d2"
    assert PodSecret.objects.get(secret_id="dbpass").value == VALUE


def test_post_only_creates_an_existing_id_is_409_pointing_to_put(alice, bob):
    create(alice)
    for client in (alice, bob):
        again = create(client, value="v2")
        assert again.status_code == 409
        assert "already exists" in again.json()["message"] and "PUT" in again.json()["message"]
    assert PodSecret.objects.get(secret_id="dbpass").value == VALUE
    assert alice.put("/v3/pods/secrets/dbpass", {"secret_value": "v2"}, format="json").status_code == 200
    assert PodSecret.objects.get(secret_id="dbpass").value == "v2"


def test_a_pod_scoped_secret_is_usable_by_that_pod_only(alice):
    assert create(alice, secret_id="podsecret", scope="pod", pod_id="web").json()["result"]["pod_id"] == "web"
    other = alice.post("/v3/pods", {"pod_id": "other", "image": "kubesim/happy",
                                    "secret_map": {"S": "${secret:podsecret}"}}, format="json")
    assert other.status_code == 400 and "podsecret" in json.dumps(other.json()["message"])
    web = alice.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy",
                                  "secret_map": {"S": "${secret:podsecret}"}}, format="json")
    assert web.status_code == 200, web.content


def test_other_user_and_other_tenant_see_nothing(alice, bob, client_for, other_tenant):
    create(alice)
    assert bob.get("/v3/pods/secrets/dbpass").status_code == 404
    assert bob.get("/v3/pods/secrets/dbpass/value").status_code == 404
    assert bob.get("/v3/pods/secrets").json()["result"] == []
    stranger = client_for("alice", other_tenant)
    assert stranger.get("/v3/pods/secrets/dbpass").status_code == 404
    assert create(stranger).status_code == 200  # ids are per tenant


def test_anonymous_is_401(api):
    assert api.get("/v3/pods/secrets").status_code == 401
    assert api.post("/v3/pods/secrets", {}, format="json").status_code == 401


def test_permissions_read_user_admin(alice, bob):
    create(alice)
    assert alice.post("/v3/pods/secrets/dbpass/permissions", {"user": "bob", "level": "READ"},
                      format="json").status_code == 200
    assert bob.get("/v3/pods/secrets/dbpass").status_code == 200
    assert bob.get("/v3/pods/secrets/dbpass/value").status_code == 403
    assert bob.delete("/v3/pods/secrets/dbpass").status_code == 403
    alice.post("/v3/pods/secrets/dbpass/permissions", {"user": "bob", "level": "USER"}, format="json")
    assert bob.get("/v3/pods/secrets/dbpass/value").json()["result"]["secret_value"] == VALUE
    perms = alice.get("/v3/pods/secrets/dbpass/permissions").json()["result"]["permissions"]
    assert perms == ["alice:ADMIN", "bob:USER"]
    assert alice.delete("/v3/pods/secrets/dbpass/permissions/bob").status_code == 200
    assert bob.get("/v3/pods/secrets/dbpass").status_code == 404


def test_delete_returns_the_id(alice):
    create(alice)
    response = alice.delete("/v3/pods/secrets/dbpass")
    assert response.status_code == 200 and response.json()["result"] == "dbpass"
    assert response.json()["message"] == "Secret deleted successfully."
    assert not PodSecret.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"secret_id": "bad id", "secret_value": "x"}, "secret_id"),
    ({"secret_id": "ok"}, "secret_value"),
    ({"secret_id": "ok", "secret_value": "x", "scope": "pod"}, "pod_id"),
    ({"secret_id": "ok", "secret_value": "x", "scope": "galaxy"}, "scope"),
    ({"secret_id": "ok", "secret_value": "x", "colour": "red"}, "colour"),
    ({"secret_id": "ok", "secret_value": "x", "description": "é"}, "description"),
])
def test_bad_input_is_a_400_naming_the_field(alice, body, field):
    response = alice.post("/v3/pods/secrets", body, format="json")
    assert response.status_code == 400
    assert field in json.dumps(response.json()["message"])


# --- secret_map on pods ------------------------------------------------------------------------

def test_pod_secret_map_expands_short_references_and_hides_literals(alice):
    create(alice)
    response = alice.post("/v3/pods", {
        "pod_id": "web", "image": "kubesim/happy",
        "secret_map": {"DB": "${secret:dbpass}", "PW": "${pods:random:16}", "LIT": "plain-literal"},
        "environment_variables": {"DATABASE_URL": "postgres://u:${pods:secrets:DB}@db/x"}}, format="json")
    assert response.status_code == 200, response.content
    shown = response.json()["result"]["secret_map"]
    assert shown == {"DB": "${secret:alice:dbpass}", "PW": "${pods:random:16}", "LIT": "<redacted>"}
    for path in ("/v3/pods/web", "/v3/pods", "/v3/pods/web/derived"):
        text = alice.get(path).content.decode()
        assert VALUE not in text and "plain-literal" not in text


def test_pod_cannot_use_someone_elses_or_missing_secret(alice, bob):
    create(alice)
    for secret_map in ({"DB": "${secret:alice:dbpass}"}, {"DB": "${secret:dbpass}"}):
        response = bob.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy", "secret_map": secret_map},
                            format="json")
        assert response.status_code == 400 and "secret_map" in json.dumps(response.json()["message"])


def test_env_use_of_an_unknown_key_is_a_400(alice):
    response = alice.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy",
                                       "environment_variables": {"X": "${pods:secrets:NOPE}"}}, format="json")
    assert response.status_code == 400
    assert "NOPE" in json.dumps(response.json()["message"])


@pytest.mark.parametrize("value", ["${secret:}", "${pods:random:4}", "${pods:bogus}", "${secret:a:b:c}"])
def test_malformed_secret_map_values_are_400(alice, value):
    response = alice.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy", "secret_map": {"K": value}},
                          format="json")
    assert response.status_code == 400 and "secret_map" in json.dumps(response.json()["message"])


def test_template_declares_required_values_and_pods_must_give_them(alice):
    assert alice.post("/v3/pods/templates", {"template_id": "mydb"}, format="json").status_code == 200
    refused = alice.post("/v3/pods/templates/mydb/tags", {"commit_message": "x", "pod_definition": {
        "image": "kubesim/happy", "secret_map": {"PW": "${secret:alice:dbpass}"}}}, format="json")
    assert refused.status_code == 400 and "template cannot refer" in json.dumps(refused.json()["message"])
    tag = alice.post("/v3/pods/templates/mydb/tags", {"commit_message": "x", "pod_definition": {
        "image": "kubesim/happy", "secret_map": {"PW": "${:?the database password}", "PORT": "${pods:default:5432}"},
        "environment_variables": {"DB_PASSWORD": "${pods:secrets:PW}"}}}, format="json")
    assert tag.status_code == 200, tag.content
    missing = alice.post("/v3/pods", {"pod_id": "dbpod", "template": "mydb"}, format="json")
    assert missing.status_code == 400
    assert "REQUIRED: 'PW' - the database password" in json.dumps(missing.json()["message"])
    create(alice)
    made = alice.post("/v3/pods", {"pod_id": "dbpod", "template": "mydb", "secret_map": {"PW": "${secret:dbpass}"}},
                      format="json")
    assert made.status_code == 200, made.content
    assert made.json()["result"]["secret_map"]["PW"] == "${secret:alice:dbpass}"


def test_placeholders_are_reported_and_required_only_to_run(alice):
    secret_map = {"REQUIRED_KEY": "${:?This is a required secret}",
                  "OPTIONAL_KEY": "${pods:default:fallback_value:?This is optional}"}
    off = alice.post("/v3/pods", {"pod_id": "offpod", "image": "kubesim/happy", "status_requested": "OFF",
                                  "secret_map": secret_map}, format="json")
    assert off.status_code == 200, off.content
    placeholders = off.json()["metadata"]["available_placeholders"]
    assert placeholders["required"] == ["REQUIRED: 'REQUIRED_KEY' - This is a required secret"]
    assert "Default: 'fallback_value'" in placeholders["optional"][0]
    on = alice.post("/v3/pods", {"pod_id": "onpod", "image": "kubesim/happy", "secret_map": secret_map},
                    format="json")
    assert on.status_code == 400 and "REQUIRED_KEY" in json.dumps(on.json()["message"])


def test_derived_resolves_only_the_callers_own_readable_secrets(alice, bob):
    create(alice)
    create(bob, secret_id="bobs", value="bob-value")
    made = alice.post("/v3/pods", {"pod_id": "web", "image": "kubesim/happy",
                                   "secret_map": {"DB": "${secret:dbpass}", "PORT": "${pods:default:5432}"},
                                   "environment_variables": {"URL": "pg://u:${pods:secrets:DB}@h:${pods:secrets:PORT}"}},
                      format="json")
    assert made.status_code == 200
    plain = alice.get("/v3/pods/web/derived").json()["result"]["environment_variables"]["URL"]
    assert VALUE not in plain
    resolved = alice.get("/v3/pods/web/derived?resolve_secrets=true").json()
    assert resolved["result"]["environment_variables"]["URL"] == f"pg://u:{VALUE}@h:5432"
    alice.post("/v3/pods/web/permissions", {"user": "bob", "level": "ADMIN"}, format="json")
    as_bob = bob.get("/v3/pods/web/derived?resolve_secrets=true").json()
    assert VALUE not in json.dumps(as_bob) and as_bob["metadata"]["secret_map_keys_withheld"] == ["DB"]
