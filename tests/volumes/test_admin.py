"""The admin site's volumes and snapshots: usage, owners, mounts, permissions, the action log,
and actions through the service functions."""
import pytest

from pods.models import StorageEvent, Volume

pytestmark = pytest.mark.django_db(transaction=True)


def test_volume_pages_and_actions(alice, storage, admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice.post("/v3/pods/volumes", {"volume_id": "data"}, format="json")
    alice.post("/v3/pods/volumes/data/upload/f", {"file": SimpleUploadedFile("f", b"12345")}, format="multipart")
    alice.post("/v3/pods", {"pod_id": "user1", "image": "kubesim/happy",
                            "volume_mounts": {"/d": {"type": "tapisvolume", "source_id": "data"}}}, format="json")
    volume = Volume.objects.get()
    assert b"data" in admin_client.get("/admin/pods/volume/").content
    page = admin_client.get(f"/admin/pods/volume/{volume.pk}/change/").content.decode()
    assert "alice" in page and "user1" in page and f"/exports/volumes/{volume.uid}" in page
    assert "uploaded &#x27;f&#x27; (5 bytes)" in page
    admin_client.post("/admin/pods/volume/", {"action": "measure_usage", "_selected_action": [volume.pk]})
    assert Volume.objects.get().size_bytes == 4096 + 5
    response = admin_client.post("/admin/pods/volume/", {"action": "delete_checked", "_selected_action": [volume.pk]},
                                 follow=True)
    assert b"mounted by running pods: user1" in response.content and Volume.objects.exists()
    alice.delete("/v3/pods/user1")
    admin_client.post("/admin/pods/volume/", {"action": "delete_checked", "_selected_action": [volume.pk]})
    assert not Volume.objects.exists()
    assert StorageEvent.objects.last().actor == "admin-site:admin"
    assert admin_client.get("/admin/pods/storageserver/").status_code == 200
    assert admin_client.get("/admin/pods/snapshot/").status_code == 200
