"""The wire envelope on every kind of API response."""
import pytest
from rest_framework import exceptions, serializers
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.envelope import validation_payload
from tests.messages import message_text

ENVELOPE_KEYS = {"result", "status", "message", "version", "metadata"}


def assert_envelope(response, http_status, status_word):
    assert response.status_code == http_status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status"] == status_word
    assert body["version"] == "1.9.0"
    return body


@pytest.mark.parametrize("path", ["/v3/pods/nope/deeper/still", "/pods/a/b/c/d/e", "/v3/nothing-here", "/v3"])
def test_unknown_api_path_is_404_envelope(client, path):
    body = assert_envelope(client.get(path), 404, "error")
    assert path in message_text(body)


def test_unknown_api_path_is_404_for_any_method(client):
    assert_envelope(client.post("/v3/pods/x/y/z/w", {}, content_type="application/json"), 404, "error")


def test_non_api_unknown_path_is_not_json(client):
    response = client.get("/definitely-not-here")
    assert response.status_code == 404
    assert response["Content-Type"] != "application/json"


@pytest.mark.urls("tests.urls_errors")
def test_forced_exception_is_500_envelope_without_internals(client, caplog):
    body = assert_envelope(client.get("/v3/pods/explode"), 500, "error")
    assert "/etc/passwd" not in message_text(body)
    assert "Traceback" not in str(body)
    assert "RuntimeError" not in message_text(body)
    # ...but the traceback is in the log for the operator.
    assert any(record.exc_info for record in caplog.records)


@pytest.mark.urls("tests.urls_errors")
def test_forced_exception_message_names_error_in_debug(client, settings):
    settings.DEBUG = True
    body = assert_envelope(client.get("/v3/pods/explode"), 500, "error")
    assert "RuntimeError" in message_text(body)


def test_method_not_allowed_is_405_envelope(client, db):
    body = assert_envelope(client.delete("/v3/healthcheck"), 405, "error")
    assert "DELETE" in message_text(body)


def test_double_slash_redirects_with_307(client):
    response = client.get("/v3//healthcheck?x=1")
    assert response.status_code == 307
    assert response["Location"] == "/v3/healthcheck?x=1"


class _Sample(serializers.Serializer):
    name = serializers.CharField(max_length=3)
    size = serializers.IntegerField()


class _ValidatingView(APIView):
    authentication_classes = []
    permission_classes = []

    def post(self, request):
        _Sample(data=request.data).is_valid(raise_exception=True)


class _ConflictView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise exceptions.PermissionDenied("You may not do that.")


def test_validation_error_names_each_field():
    request = APIRequestFactory().post("/v3/pods/x", {"name": "toolong", "size": "big"}, format="json")
    response = _ValidatingView.as_view()(request)
    response.render()
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.data and __import__("json").loads(response.content)
    assert body["status"] == "error"
    assert "name:" in message_text(body) and "size:" in message_text(body)
    assert set(body["metadata"]["errors"]) == {"name", "size"}


def test_permission_denied_is_403_envelope():
    response = _ConflictView.as_view()(APIRequestFactory().get("/v3/pods/x"))
    response.render()
    import json

    body = json.loads(response.content)
    assert response.status_code == 403
    assert body["message"] == "You may not do that."
    assert body["result"] is None


def test_nested_validation_details_are_flattened():
    payload = validation_payload({"networking": {"default": {"port": ["Too big."]}}, "non_field_errors": ["Bad."]})
    assert payload["metadata"]["errors"] == {"networking.default.port": ["Too big."], "request": ["Bad."]}
    assert payload["message"] == ["networking.default.port: Too big.", "Bad."]  # a list, as upstream
