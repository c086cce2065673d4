"""``/_kubesim/bulk``: many creates in one call, each as a POST would do it."""
import requests


def pod(name, **labels):
    return {"metadata": {"name": name, "labels": labels or {"app": "bulk"}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}


def test_bulk_creates_each_object_as_a_post_and_reports_refusals(sim, core):
    answer = requests.post(f"{sim.url}/_kubesim/bulk", json={
        "resource": "pods", "namespace": "default",
        "items": [pod("b1"), pod("b2"), pod("b1"), {"metadata": {"name": "Bad_Name"}, "spec": {}}]}, timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert body["created"] == 2 and body["error_count"] == 2
    assert [e["index"] for e in body["errors"]] == [2, 3]
    assert body["errors"][0]["code"] == 409 and body["errors"][1]["code"] == 422
    listed = core.list_namespaced_pod("default", label_selector="app=bulk").items
    assert sorted(p.metadata.name for p in listed) == ["b1", "b2"]
    assert all(p.metadata.uid and p.metadata.resource_version for p in listed)


def test_bulk_refuses_unknown_resources_and_bad_bodies(sim):
    for body in ({"resource": "widgets", "items": []}, {"resource": "pods", "items": "x"},
                 {"resource": "pods", "items": [], "bogus": 1}):
        answer = requests.post(f"{sim.url}/_kubesim/bulk", json=body, timeout=30)
        assert answer.status_code == 400, body
