"""Templates and images at upstream parity: ephemeral storage in templates, upstream's messages,
(its ``tests/test_images.py``): writes in admin mode, the tag notice; private images."""
import base64
import json

import pytest

from pods.models import Pod


@pytest.fixture
def alice(client_for):
    return client_for("alice")


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_templates_set_ephemeral_storage_and_it_merges_key_by_key(tenant, alice, make_template, publish):
    template = make_template("bigdisk", owner="alice")
    publish(template, {"image": "kubesim/happy",
                       "resources": {"ephemeral_storage_request": 2048, "ephemeral_storage_limit": 8192}})
    body = {"pod_id": "mypod", "template": "bigdisk", "resources": {"ephemeral_storage_limit": 4096}}
    pod = alice.post("/v3/pods", json.dumps(body), content_type="application/json").json()["result"]
    assert (pod["resources"]["ephemeral_storage_request"], pod["resources"]["ephemeral_storage_limit"]) == (2048, 4096)


def test_a_template_may_not_hold_out_of_bounds_storage(tenant, client_for, make_template):
    make_template("bigdisk", owner="alice")
    response = client_for("alice").post(
        "/v3/pods/templates/bigdisk/tags", json.dumps({"commit_message": "too big", "pod_definition": {
            "image": "kubesim/happy", "resources": {"ephemeral_storage_limit": 99999}}}),
        content_type="application/json")
    assert response.status_code == 400
    assert any("ephemeral_storage_x out of bounds" in m for m in response.json()["message"])


def test_update_template_and_image_that_change_nothing_say_so(tenant, client_for, make_template):
    make_template("mytpl", owner="alice", description="d")
    alice = client_for("alice")
    template = alice.put("/v3/pods/templates/mytpl", {"description": "d"}, format="json")
    assert template.json()["message"] == \
        "Incoming data made no changes to template. Is incoming data equal to current data?"
    boss = client_for("boss", admin_mode=True)
    assert post(boss, "/v3/pods/images", {"image": "myorg/app", "description": "x"}).status_code == 200
    image = boss.put("/v3/pods/images/myorg/app", {"description": "x"}, format="json")
    assert image.json()["message"] == "Incoming data made no changes to image. Is incoming data equal to current data?"


# --- Images: admin mode, upstream's notice --------------------------------------------------------

def test_image_writes_need_admin_mode_with_a_message_saying_so(tenant, client_for):
    evil = {"image": "attacker/evil:latest", "tenants": ["**"], "description": "nope"}
    without_mode = post(client_for("boss"), "/v3/pods/images", evil)
    assert without_mode.status_code == 403 and "admin mode" in without_mode.json()["message"]
    assert "X-Pods-Admin: true" in without_mode.json()["message"]
    assert post(client_for("alice"), "/v3/pods/images", evil).status_code == 403
    boss = client_for("boss", admin_mode=True)
    assert post(boss, "/v3/pods/images", {"image": "postgres:14", "tenants": ["*"]}).status_code == 200
    for verb in ("put", "delete"):
        args = ({"description": "x"},) if verb == "put" else ()
        refused = getattr(client_for("boss"), verb)("/v3/pods/images/postgres", *args, format="json")
        assert refused.status_code == 403 and "admin mode" in refused.json()["message"]
    got = client_for("boss").get("/v3/pods/images/attacker/evil").json()
    assert got["status"] == "error" and "not found" in got["message"].lower()


def test_adding_an_image_as_upstreams_test_does(tenant, other_tenant, client_for):
    boss = client_for("boss", admin_mode=True)
    body = post(boss, "/v3/pods/images", {"image": "postgres:14", "tenants": ["*"],
                                          "description": "Postgres 14 image"}).json()
    assert body["result"]["image"] == "postgres"
    assert body["metadata"]["notice"] == "removed tag from image, tag enforcement does not yet exist"
    assert "'dev' alone" in body["metadata"]["scope"]
    # '*' in a tenant's entry admits that tenant only, never another.
    from templates_catalog.models import image_allowed

    assert image_allowed(tenant, "postgres") and not image_allowed(other_tenant, "postgres")
    assert client_for("olga", in_tenant=other_tenant).get("/v3/pods/images/postgres").status_code == 404
    pod = post(client_for("alice"), "/v3/pods", {"pod_id": "testnewimages", "image": "postgres",
                                                  "description": "Postgres 14 pod"})
    assert pod.status_code == 200 and pod.json()["result"]["image"] == "postgres"


def test_image_description_rules_in_upstreams_words(tenant, client_for):
    boss = client_for("boss", admin_mode=True)
    long = post(boss, "/v3/pods/images", {"image": "test-err-image-1", "description": "Test" * 200})
    assert long.status_code == 400
    assert any("description field must be less than 255 characters." in m for m in long.json()["message"])
    accented = post(boss, "/v3/pods/images", {"image": "test-err-image-2", "description": "cafè"})
    assert any("description field may only contain ASCII characters" in m for m in accented.json()["message"])


# --- Private images ------------------------------------------------------------------------------

@pytest.fixture
def registry_credential(tenant):
    from templates_catalog.models import RegistryCredential

    credential = RegistryCredential(tenant=tenant, registry="registry.example.org:5000", username="robot")
    credential.set_password("s3cret-token")
    credential.save()
    return credential


def test_registry_of_an_image():
    from podspec.images import registry_of

    assert registry_of("postgres:16") == "docker.io"
    assert registry_of("jupyter/base-notebook") == "docker.io"
    assert registry_of("docker.io/library/postgres") == "docker.io"
    assert registry_of("ghcr.io/org/app:1") == "ghcr.io"
    assert registry_of("registry.example.org:5000/team/app@sha256:" + "a" * 64) == "registry.example.org:5000"
    assert registry_of("localhost/app") == "localhost"


def test_the_password_is_encrypted_at_rest(registry_credential):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password_encrypted FROM templates_catalog_registrycredential")
        [(stored,)] = cursor.fetchall()
    assert "s3cret-token" not in stored and registry_credential.password == "s3cret-token"
    assert "s3cret-token" not in repr(registry_credential)


def test_a_private_image_is_pulled_with_the_tenants_credential(tenant, other_tenant, registry_credential, site_image,
                                                                alice, sim, core):
    from workers.spawner import reconcile_pod

    site_image("registry.example.org:5000/team/app")
    response = post(alice, "/v3/pods", {"pod_id": "private", "image": "registry.example.org:5000/team/app:1"})
    assert response.status_code == 200
    assert "s3cret-token" not in response.content.decode()
    assert reconcile_pod(Pod.objects.get(pod_id="private").pk) == "created"

    kpod = core.read_namespaced_pod("pods-local-dev-private", "default")
    [pull] = kpod.spec.image_pull_secrets
    secret = core.read_namespaced_secret(pull.name, "default")
    assert secret.type == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))
    auth = config["auths"]["registry.example.org:5000"]
    assert (auth["username"], auth["password"]) == ("robot", "s3cret-token")
    assert base64.b64decode(auth["auth"]).decode() == "robot:s3cret-token"
    # Owned by the instance's Service: the cluster deletes it with the instance.
    assert [ref.kind for ref in secret.metadata.owner_references] == ["Service"]
    assert kpod.spec.containers[0].image_pull_policy in (None, "IfNotPresent")  # Kubernetes' default
    for path in ("/v3/pods/private", "/v3/pods/private/derived", "/v3/pods", "/v3/pods/private/logs"):
        assert "s3cret-token" not in alice.get(path).content.decode(), path


def test_public_images_and_other_registries_get_no_pull_secret(tenant, registry_credential, alice, sim, core):
    from workers.spawner import reconcile_pod

    post(alice, "/v3/pods", {"pod_id": "public", "image": "kubesim/happy"})
    assert reconcile_pod(Pod.objects.get(pod_id="public").pk) == "created"
    kpod = core.read_namespaced_pod("pods-local-dev-public", "default")
    assert not kpod.spec.image_pull_secrets


def test_pull_policy_from_the_template_or_the_setting(tenant, alice, make_template, publish, settings, sim, core):
    from workers.spawner import reconcile_pod

    template = make_template("fresh", owner="alice")
    publish(template, {"image": "kubesim/happy", "security": {"image_pull_policy": "Always"}})
    post(alice, "/v3/pods", {"pod_id": "fromtemplate", "template": "fresh"})
    settings.PODS_IMAGE_PULL_POLICY = "Never"
    post(alice, "/v3/pods", {"pod_id": "fromsetting", "image": "kubesim/happy"})
    for pod_id in ("fromtemplate", "fromsetting"):
        assert reconcile_pod(Pod.objects.get(pod_id=pod_id).pk) == "created"
    policy = {pod_id: core.read_namespaced_pod(f"pods-local-dev-{pod_id}", "default").spec.containers[0]
              .image_pull_policy for pod_id in ("fromtemplate", "fromsetting")}
    assert policy == {"fromtemplate": "Always", "fromsetting": "Never"}


def test_registry_credential_command(tenant, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from templates_catalog.models import RegistryCredential

    secret_file = tmp_path / "token"
    secret_file.write_text("tok-123\n")
    call_command("registry_credential", "set", "dev", "ghcr.io", "--username", "bot", "--password-file",
                 str(secret_file))
    credential = RegistryCredential.objects.get(tenant=tenant, registry="ghcr.io")
    assert credential.password == "tok-123" and credential.username == "bot"
    with pytest.raises(CommandError, match="not a registry host"):
        call_command("registry_credential", "set", "dev", "Bad Host", "--username", "bot", "--password-file",
                     str(secret_file))
    call_command("registry_credential", "delete", "dev", "ghcr.io")
    assert not RegistryCredential.objects.exists()
    with pytest.raises(CommandError, match="no credential"):
        call_command("registry_credential", "delete", "dev", "ghcr.io")


def test_the_pull_secret_goes_with_the_instance(tenant, registry_credential, site_image, alice, sim, core):
    from pods.lifecycle import request_status
    from pods.choices import RequestedStatus
    from workers.spawner import reconcile_pod

    site_image("registry.example.org:5000/team/app")
    post(alice, "/v3/pods", {"pod_id": "private", "image": "registry.example.org:5000/team/app:1"})
    pod = Pod.objects.get(pod_id="private")
    assert reconcile_pod(pod.pk) == "created"
    [pull] = core.read_namespaced_pod("pods-local-dev-private", "default").spec.image_pull_secrets
    request_status(pod, requested=RequestedStatus.OFF, actor="alice")
    reconcile_pod(pod.pk)
    sim.advance(60)
    names = [s.metadata.name for s in core.list_namespaced_secret("default").items]
    assert pull.name not in names
