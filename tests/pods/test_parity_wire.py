"""Invalid input worded as upstream's clients read it (its ``tests/test_validation_messages.py``,
``test_pods.py``, ``test_images.py``): ``message`` is a list of ``"<field>: <problem>"`` strings."""
import json

import pytest

from pods.models import Pod


def post(client, path, body, **kwargs):
    return client.post(path, json.dumps(body), content_type="application/json", **kwargs)


def messages(response):
    body = response.json()
    assert body["status"] == "error"
    assert isinstance(body["message"], list), body["message"]
    return body["message"]


def test_a_body_without_content_type_is_a_400_naming_the_header(tenant, alice):
    response = alice.generic("POST", "/v3/pods", json.dumps({"pod_id": "neverexists"}), content_type="")
    assert response.status_code == 400
    assert any("Content-Type: application/json" in m for m in messages(response))
    assert not Pod.objects.exists()


def test_a_body_with_another_content_type_is_a_400_naming_the_header(tenant, alice):
    response = alice.generic("POST", "/v3/pods", json.dumps({"pod_id": "neverexists"}), content_type="text/plain")
    assert response.status_code == 400
    [message] = messages(response)
    assert "Content-Type: application/json" in message and "'text/plain'" in message


@pytest.mark.parametrize("body, kind", [([1, 2, 3], "a JSON array"), ("pod", "a string"), (7, "a number")])
def test_a_json_body_that_is_not_an_object_says_expected_a_json_object(tenant, alice, body, kind):
    response = post(alice, "/v3/pods", body)
    assert response.status_code == 400
    assert messages(response) == [f"Invalid request body: expected a JSON object, got {kind}."]


def test_a_nested_value_that_is_not_an_object_names_its_field(tenant, alice):
    response = post(alice, "/v3/pods", {"pod_id": "mypod", "image": "kubesim/happy", "resources": [1]})
    assert messages(response) == ["resources: Invalid value: expected a JSON object, got a JSON array."]


def test_field_messages_survive_one_string_per_problem(tenant, alice):
    response = post(alice, "/v3/pods", {"bogus_field": 1})
    assert response.status_code == 400
    found = messages(response)
    assert any("pod_id" in m and "required" in m.lower() for m in found)
    assert "bogus_field: Unknown field; it is not accepted here." in found
    assert response.json()["metadata"]["errors"]["bogus_field"] == ["Unknown field; it is not accepted here."]


def test_pod_description_rules_in_upstreams_words(tenant, alice):
    base = {"pod_id": "mypod", "image": "kubesim/happy"}
    long = post(alice, "/v3/pods", {**base, "description": "Test" * 200})
    assert long.status_code == 400
    assert any("description field must be less than 404 characters." in m for m in messages(long))
    accented = post(alice, "/v3/pods", {**base, "description": "cafè"})
    assert any("description field may only contain ASCII characters" in m for m in messages(accented))
    assert post(alice, "/v3/pods", {**base, "description": "x" * 404}).status_code == 200


def test_other_errors_keep_a_string_message(tenant, alice, make_pod):
    make_pod("mypod")
    response = post(alice, "/v3/pods", {"pod_id": "mypod", "image": "kubesim/happy"})
    assert response.status_code == 409 and isinstance(response.json()["message"], str)
    missing = alice.get("/v3/pods/nosuchpod")
    assert missing.status_code == 404 and isinstance(missing.json()["message"], str)


def test_update_pod_that_changes_nothing_says_so_as_upstream(tenant, alice, make_pod):
    make_pod("mypod", description="same")
    response = alice.put("/v3/pods/mypod", {"description": "same"}, format="json")
    assert response.status_code == 200
    assert response.json()["message"] == "Incoming data made no changes to pod. Is incoming data equal to current data?"
    assert response.json()["result"]["description"] == "same"
