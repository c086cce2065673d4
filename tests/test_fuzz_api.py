"""Schemathesis fuzzes every operation of our OpenAPI document: bad input must never be a 500.

Runs in-process against the WSGI app with a valid token, so requests get past authentication and
reach validation and the views. Derandomized, so a CI run is reproducible.
"""
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

schema = schemathesis.openapi.from_wsgi("/openapi.json", get_wsgi_application())


@pytest.fixture
def _keep_test_connection():
    """As Django's test client does: requests must not close the test transaction's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_headers(tenant, token_for, _keep_test_connection):
    from pods.services.pods import pod_create
    from tenancy.identity import Principal

    # A real object, so id-bearing paths sometimes reach a visible pod.
    pod_create(principal=Principal(tenant=tenant, username="alice"), data={"pod_id": "fuzzpod", "image": "kubesim/web:1"})
    return {"X-Tapis-Token": token_for("alice")}


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
def test_no_input_causes_a_server_error(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers, checks=[not_a_server_error])
