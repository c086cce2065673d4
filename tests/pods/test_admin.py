"""The pod admin: list with filters and search, lifecycle actions through the service functions."""
import pytest

from pods.models import Pod, PodEvent, PodEventKind


@pytest.fixture
def pods(make_pod):
    return make_pod("running", owner="alice"), make_pod("stopped", owner="alice", status_requested="OFF")


def test_changelist_filters_and_search(pods, admin_client):
    assert b"running" in admin_client.get("/admin/pods/pod/").content
    page = admin_client.get("/admin/pods/pod/?status__exact=STOPPED").content
    assert b"stopped" in page and b">running<" not in page
    assert b"stopped" in admin_client.get("/admin/pods/pod/?q=stopp").content


def test_change_page_shows_lifecycle_read_only_and_events(pods, admin_client):
    page = admin_client.get(f"/admin/pods/pod/{pods[0].pk}/change/")
    assert page.status_code == 200
    assert b"pods-local-dev-running" in page.content  # k8_name
    assert b"Pod object created by" in page.content  # event inline


def test_add_is_only_through_the_api(pods, admin_client):
    assert admin_client.get("/admin/pods/pod/add/").status_code == 403


def test_actions_use_the_service_functions(pods, admin_client):
    running, stopped = pods
    response = admin_client.post("/admin/pods/pod/", {"action": "start_pods",
                                                     "_selected_action": [running.pk, stopped.pk]}, follow=True)
    assert response.status_code == 200
    assert Pod.objects.get(pk=stopped.pk).status == "REQUESTED"
    # Only what changed is counted, in the admin's words; the running pod was refused, not forced.
    assert b"Start: 1 pod started (stopped)." in response.content
    assert b"running was not started: it is REQUESTED, only STOPPED pods start" in response.content
    assert b"Use restart_pod" not in response.content  # no API operation names in admin messages
    admin_client.post("/admin/pods/pod/", {"action": "stop_pods", "_selected_action": [running.pk]})
    assert Pod.objects.get(pk=running.pk).status_requested == "OFF"
    admin_client.post("/admin/pods/pod/", {"action": "restart_pods", "_selected_action": [running.pk]})
    assert Pod.objects.get(pk=running.pk).status_requested == "RESTART"
    actors = set(PodEvent.objects.exclude(kind=PodEventKind.CREATED).values_list("actor", flat=True))
    assert actors == {"admin-site:admin"}


def test_delete_through_admin_is_the_service_delete(pods, admin_client):
    running = pods[0]
    response = admin_client.post(f"/admin/pods/pod/{running.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Pod.objects.filter(pk=running.pk).exists()
    assert PodEvent.objects.filter(pod_uid=running.uid, kind=PodEventKind.DELETED).exists()
