"""Label/field selectors, pagination, and the three PATCH flavours."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from .helpers import pod_manifest, raw_request, status_of


@pytest.fixture
def labelled(core):
    specs = {"a": {"app": "web", "tier": "front"}, "b": {"app": "web", "tier": "back"},
             "c": {"app": "db"}, "d": {}}
    for name, labels in specs.items():
        core.create_namespaced_pod("default", pod_manifest(name, labels=labels))
    return specs


def names(pod_list):
    return sorted(p.metadata.name for p in pod_list.items)


@pytest.mark.parametrize("selector,expected", [
    ("app=web", ["a", "b"]),
    ("app==web", ["a", "b"]),
    ("app!=web", ["c", "d"]),
    ("tier in (front, back)", ["a", "b"]),
    ("tier notin (front)", ["b", "c", "d"]),
    ("tier", ["a", "b"]),
    ("!tier", ["c", "d"]),
    ("app=web,tier=back", ["b"]),
    ("app in (web,db),!tier", ["c"]),
])
def test_label_selectors(core, labelled, selector, expected):
    assert names(core.list_namespaced_pod("default", label_selector=selector)) == expected


@pytest.mark.parametrize("selector", ["app in (", "app=a b", "=x", "app in ()"])
def test_bad_label_selector_is_400(core, selector):
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", label_selector=selector)
    assert err.value.status == 400
    assert status_of(err.value)["reason"] == "BadRequest"


def test_field_selectors(core, labelled, sim):
    assert names(core.list_namespaced_pod("default", field_selector="metadata.name=c")) == ["c"]
    assert names(core.list_namespaced_pod("default", field_selector="metadata.name!=c")) == [
        "a", "b", "d"]
    assert names(core.list_namespaced_pod("default", field_selector="status.phase=Running")) == []
    sim.advance(5)
    running = core.list_pod_for_all_namespaces(field_selector="status.phase=Running,"
                                                             "spec.nodeName=kubesim-node")
    assert names(running) == ["a", "b", "c", "d"]
    events = core.list_namespaced_event(
        "default", field_selector="involvedObject.kind=Pod,involvedObject.name=a,type=Normal")
    assert {e.reason for e in events.items} == {"Scheduled", "Pulling", "Pulled", "Created",
                                                "Started"}
    assert all(e.involved_object.name == "a" for e in events.items)
    started = core.list_namespaced_event("default", field_selector="reason=Started")
    assert len(started.items) == 4


def test_unknown_field_selector_is_400(core):
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", field_selector="spec.foo=bar")
    assert err.value.status == 400
    assert status_of(err.value)["message"] == "field label not supported: spec.foo"


def test_pagination_with_continue(core):
    for i in range(7):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{i}"}})
    first = core.list_namespaced_config_map("default", limit=3)
    assert [c.metadata.name for c in first.items] == ["cm-0", "cm-1", "cm-2"]
    assert first.metadata.remaining_item_count == 4 and first.metadata.var_continue
    second = core.list_namespaced_config_map("default", limit=3,
                                             _continue=first.metadata.var_continue)
    assert [c.metadata.name for c in second.items] == ["cm-3", "cm-4", "cm-5"]
    assert second.metadata.resource_version == first.metadata.resource_version
    third = core.list_namespaced_config_map("default", limit=3,
                                            _continue=second.metadata.var_continue)
    assert [c.metadata.name for c in third.items] == ["cm-6"]
    assert not third.metadata.var_continue


def test_expired_continue_token_is_410(core, sim):
    for i in range(3):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"x-{i}"}})
    token = core.list_namespaced_config_map("default", limit=1).metadata.var_continue
    sim.reset()  # compacts all history
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map("default", limit=1, _continue=token)
    assert err.value.status == 410
    assert status_of(err.value)["reason"] == "Expired"


def test_list_items_omit_kind_but_list_has_it(api_client, core):
    core.create_namespaced_pod("default", pod_manifest("raw"))
    data = json.loads(raw_request(api_client, "GET", "/api/v1/namespaces/default/pods").read())
    assert data["kind"] == "PodList" and data["apiVersion"] == "v1"
    assert "kind" not in data["items"][0]


def test_table_output_for_kubectl(api_client, core, sim):
    core.create_namespaced_pod("default", pod_manifest("tbl"))
    sim.advance(5)
    response = raw_request(api_client, "GET", "/api/v1/namespaces/default/pods", headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    table = json.loads(response.read())
    assert table["kind"] == "Table"
    columns = [c["name"] for c in table["columnDefinitions"]]
    assert columns[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["cells"][:4] == ["tbl", "1/1", "Running", "0"]
    assert table["rows"][0]["object"]["metadata"]["name"] == "tbl"


def test_strategic_merge_patch_labels_and_containers(core):
    body = pod_manifest("p", labels={"a": "1", "b": "2"})
    body["spec"]["containers"].append({"name": "side", "image": "busybox:1"})
    core.create_namespaced_pod("default", body)
    patched = core.patch_namespaced_pod("p", "default", {
        "metadata": {"labels": {"a": None, "c": "3"}, "annotations": {"note": "x"}},
        "spec": {"containers": [{"name": "side", "image": "busybox:2"}]}})
    assert patched.metadata.labels == {"b": "2", "c": "3"}
    assert patched.metadata.annotations == {"note": "x"}
    assert [(c.name, c.image) for c in patched.spec.containers] == [
        ("main", "nginx:1.27"), ("side", "busybox:2")]


def test_merge_patch_replaces_lists(core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "m", "finalizers": ["a/b"]},
                                                  "data": {"x": "1", "y": "2"}})
    patched = core.patch_namespaced_config_map(
        "m", "default", {"data": {"x": None, "z": "3"}, "metadata": {"finalizers": []}},
        _content_type="application/merge-patch+json")
    assert patched.data == {"y": "2", "z": "3"}
    assert not patched.metadata.finalizers


def test_json_patch(core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "j"}, "data": {"x": "1"}})
    patched = core.patch_namespaced_config_map("j", "default", [
        {"op": "test", "path": "/data/x", "value": "1"},
        {"op": "replace", "path": "/data/x", "value": "2"},
        {"op": "add", "path": "/metadata/labels", "value": {"k": "v"}}])
    assert patched.data == {"x": "2"} and patched.metadata.labels == {"k": "v"}
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map("j", "default",
                                         [{"op": "test", "path": "/data/x", "value": "nope"}])
    assert err.value.status == 422
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map("j", "default",
                                         [{"op": "remove", "path": "/data/missing"}])
    assert err.value.status == 422


def test_patch_with_stale_resource_version_conflicts(core):
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "rv"}})
    core.patch_namespaced_config_map("rv", "default", {"data": {"a": "1"}})
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map("rv", "default", {"metadata": {
            "resourceVersion": created.metadata.resource_version}, "data": {"a": "2"}})
    assert err.value.status == 409


def test_unsupported_patch_type_is_415(api_client, core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "t"}})
    response = raw_request(api_client, "PATCH", "/api/v1/namespaces/default/configmaps/t",
                           headers={"Content-Type": "text/plain"}, body="x")
    assert response.status == 415
    body = json.loads(response.read())
    assert body["reason"] == "UnsupportedMediaType"
    assert body["message"].startswith("the body of the request was in an unknown format - "
                                      "accepted media types include: application/json-patch+json")


def test_patch_missing_object_is_404(core):
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_pod("ghost", "default", {"metadata": {"labels": {"a": "b"}}})
    assert err.value.status == 404


def test_dry_run_patch_and_delete(core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "d"}, "data": {"a": "1"}})
    preview = core.patch_namespaced_config_map("d", "default", {"data": {"a": "2"}},
                                               dry_run="All")
    assert preview.data == {"a": "2"}
    assert core.read_namespaced_config_map("d", "default").data == {"a": "1"}
    core.delete_namespaced_config_map("d", "default", dry_run="All")
    assert core.read_namespaced_config_map("d", "default").data == {"a": "1"}
