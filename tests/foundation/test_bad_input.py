"""Bad input is a 4xx in the envelope naming what is wrong, never a 500, and nothing is written
(security finding 9): deep nesting, oversized bodies, NUL characters, integers beyond a column."""
import json

import pytest

from pods.models import Pod
from tests.messages import message_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(tenant, client_for):
    return client_for("alice")


def post(client, path, body: str):
    return client.post(path, body, content_type="application/json")


def assert_error(response, status, words=""):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "error" and words in message_text(body), body
    return body


@pytest.mark.parametrize("path", ["/v3/pods", "/v3/pods/templates", "/v3/pods/images"])
@pytest.mark.parametrize("shape", ["[" * 50000 + "]" * 50000, '{"a":' * 5000 + "1" + "}" * 5000,
                                   '{"pod_id": ' + "[" * 40 + "]" * 40 + "}"])
def test_deeply_nested_json_is_400(client_for, tenant, path, shape):
    # boss: a tenant admin, in admin mode (image writes need it)
    assert_error(post(client_for("boss", admin_mode=True), path, shape), 400, "nested more than")
    assert not Pod.objects.exists()


def test_a_body_over_the_limit_is_413(alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"pod_id": "big", "image": "kubesim/web", "description": "x" * 20_000})
    assert_error(post(alice, "/v3/pods", body), 413, "larger than this service accepts (10000 bytes)")
    assert not Pod.objects.exists()
    # Within the limit, the same request is fine.
    small = json.dumps({"pod_id": "small", "image": "kubesim/web", "description": "x" * 100})
    assert post(alice, "/v3/pods", small).status_code == 200


def test_the_default_limit_admits_a_large_config_file(alice):
    content = "x" * 1_000_000  # the longest config_content a mount may hold
    body = json.dumps({"pod_id": "conf", "image": "kubesim/web",
                       "volume_mounts": {"/etc/x.conf": {"type": "ephemeral", "config_content": content}}})
    assert post(alice, "/v3/pods", body).status_code == 200


@pytest.mark.parametrize("path", ["/v3/pods/ab%00c", "/v3/pods/ab%00c/logs", "/v3/pods/ab%00c/auth",
                                  "/v3/pods/images/a%00b", "/v3/pods/templates/a%00b/tags",
                                  "/v3/pods/mypod/permissions/a%00b", "/v3/pods?x=%00", "/pods/x%00"])
def test_a_nul_in_the_url_is_400(alice, path):
    for method in ("get", "delete"):
        body = assert_error(getattr(alice, method)(path), 400, "Null characters are not allowed")
        assert body["metadata"]["errors"]


@pytest.mark.parametrize("body,field", [
    ({"pod_id": "ab\u0000c", "image": "kubesim/web"}, "pod_id"),
    ({"pod_id": "abc", "image": "kubesim/web", "volume_mounts": {
        "/a\u0000b": {"type": "ephemeral", "config_content": "x"}}}, "volume_mounts"),
    ({"pod_id": "abc", "image": "kubesim/web", "networking": {"default": {"ip_allow_list": ["1.2.3.4\u0000"]}}},
     "networking.default.ip_allow_list[0]"),
    ({"pod_id": "abc", "image": "kubesim/web", "environment_variables": {"A": "x\u0000y"}},
     "environment_variables.A"),
])
def test_a_nul_in_the_body_is_400_naming_where(alice, body, field):
    body = assert_error(post(alice, "/v3/pods", json.dumps(body)), 400, "Null characters")
    assert field in body["metadata"]["errors"], body
    assert not Pod.objects.exists()


@pytest.mark.parametrize("field,value", [("time_to_stop_default", 10**12), ("time_to_stop_instance", 2**31),
                                         ("time_to_stop_default", -(10**12))])
def test_integers_beyond_the_column_are_400(alice, field, value):
    body = assert_error(post(alice, "/v3/pods", json.dumps({"pod_id": "big", "image": "kubesim/web", field: value})),
                        400, field)
    assert field in body["metadata"]["errors"]
    assert post(alice, "/v3/pods", json.dumps({"pod_id": "mypod", "image": "kubesim/web"})).status_code == 200
    response = alice.put("/v3/pods/mypod", {field: value}, format="json")
    assert_error(response, 400, field)


def test_nan_is_not_json(alice):
    assert_error(post(alice, "/v3/pods", '{"pod_id": "abc", "image": "kubesim/web", "time_to_stop_default": NaN}'),
                 400, "NaN")
