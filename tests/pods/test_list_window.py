"""list_pods' optional ``limit`` and ``skip`` (by pod_id); absent, the list is complete."""
import pytest

from tests.messages import message_text

from .test_queries import count_queries, seed

pytestmark = pytest.mark.django_db


def ids(body):
    return [pod["pod_id"] for pod in body["result"]]


def test_limit_and_skip_page_through_the_list_by_pod_id(tenant, alice):
    seed(tenant, "alice", 25)
    _, everything = count_queries(alice, "/v3/pods")
    assert ids(everything) == [f"pod{i:05d}" for i in range(25)] and "limit" not in everything["metadata"]
    pages = []
    for skip in range(0, 25, 10):
        _, page = count_queries(alice, f"/v3/pods?limit=10&skip={skip}")
        assert page["metadata"]["limit"] == 10 and page["metadata"]["skip"] == skip
        pages += ids(page)
    assert pages == ids(everything)
    _, rest = count_queries(alice, "/v3/pods?skip=20")
    assert ids(rest) == ids(everything)[20:] and rest["metadata"]["limit"] == -1
    _, unlimited = count_queries(alice, "/v3/pods?limit=-1")
    assert ids(unlimited) == ids(everything)
    _, none = count_queries(alice, "/v3/pods?limit=0")
    assert none["result"] == []


def test_a_page_costs_the_same_queries_as_the_whole_list(tenant, alice):
    seed(tenant, "alice", 30)
    count_queries(alice, "/v3/pods")  # the tenant's cache warms on the first request
    whole, _ = count_queries(alice, "/v3/pods")
    paged, body = count_queries(alice, "/v3/pods?limit=5&skip=5")
    assert paged == whole and len(body["result"]) == 5


@pytest.mark.parametrize("query, name", [
    ("limit=ten", "limit"), ("limit=-2", "limit"), ("skip=-1", "skip"), ("skip=1.5", "skip"),
    ("limit=", "limit"), ("limit=99999999999", "limit"),
])
def test_bad_windows_are_a_400_naming_the_parameter(tenant, alice, query, name):
    response = alice.get(f"/v3/pods?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error" and f"{name}: must be a whole number" in message_text(body)


@pytest.mark.live
def test_tapipy_passes_limit_and_skip_through(live_server, transactional_db, tenant, token_for):
    from tapipy.tapis import Tapis

    seed(tenant, "alice", 12)
    t = Tapis(base_url=live_server.url, tenant_id="dev", access_token=token_for("alice"))
    assert len(t.pods.list_pods()) == 12
    page = t.pods.list_pods(_tapis_query_parameters={"limit": 5, "skip": 10})
    assert [p.pod_id for p in page] == ["pod00010", "pod00011"]
