"""Credentials: generated at create, encrypted at rest, shown only by get_pod_credentials."""
import json

import pytest
from django.db import connection

from pods.models import Pod, PodCredentials, PodEvent


@pytest.fixture
def secret_pod(tenant, alice, client_for):
    response = alice.post("/v3/pods", {"pod_id": "mypod", "image": "kubesim/happy"}, format="json")
    assert response.status_code == 200
    creds = alice.get("/v3/pods/mypod/credentials").json()["result"]
    return creds


def test_credentials_are_generated_strong_and_encrypted_at_rest(secret_pod):
    assert set(secret_pod) == {"user_username", "user_password"}
    assert secret_pod["user_username"] == "mypod"
    assert len(secret_pod["user_password"]) == 30 and secret_pod["user_password"].isalnum()
    row = PodCredentials.objects.get()
    assert row.admin_username == "podsservice" and len(row.admin_password) == 30
    assert row.admin_password != row.user_password
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM pods_podcredentials")
        raw = json.dumps(cursor.fetchall(), default=str)
    assert secret_pod["user_password"] not in raw and row.admin_password not in raw
    assert secret_pod["user_password"] not in repr(row) + str(row)


def test_each_pod_gets_its_own_passwords(make_pod):
    a, b = make_pod("podone"), make_pod("podtwo")
    assert a.credentials.user_password != b.credentials.user_password


def test_credentials_never_appear_elsewhere(secret_pod, alice, client_for, admin_client, caplog):
    password = secret_pod["user_password"]
    admin_password = PodCredentials.objects.get().admin_password
    boss = client_for("boss", admin_mode=True)
    alice.put("/v3/pods/mypod", {"description": "touch"}, format="json")
    alice.get("/v3/pods/mypod/restart")
    pod = Pod.objects.get()
    bodies = [
        alice.get("/v3/pods/mypod").content,
        alice.get("/v3/pods").content,
        boss.get("/v3/pods").content,
        alice.get("/v3/pods/mypod/logs").content,
        alice.get("/v3/pods/mypod/derived").content,
        alice.get("/v3/pods/mypod/permissions").content,
        alice.get("/v3/pods/mypod/stop").content,
        admin_client.get("/admin/pods/pod/").content,
        admin_client.get(f"/admin/pods/pod/{pod.pk}/change/").content,
        json.dumps(list(PodEvent.objects.values()), default=str).encode(),
        caplog.text.encode(),
    ]
    for body in bodies:
        assert password.encode() not in body
        assert admin_password.encode() not in body


def test_credentials_need_user_level(secret_pod, alice, client_for):
    from pods.models import PodPermission

    PodPermission.objects.create(pod=Pod.objects.get(), username="reader", level=1)
    assert client_for("reader").get("/v3/pods/mypod/credentials").status_code == 403
