"""secret_map reaches the cluster only inside the pod's Kubernetes Secret (read back from kubesim
through the real kubernetes client), and a secret gone since the pod was written stops it with
a message."""
import base64
import json

import pytest

from pods.choices import PodStatus as S
from pods.models import Pod
from pods.services.secrets import secret_create, secret_delete
from tenancy.identity import Principal
from workers.spawner import reconcile_pod

pytestmark = pytest.mark.django_db

VALUE = "hunter2-very-secret"


def secrets_of(core, pod):
    return [s for s in core.list_namespaced_secret("default").items
            if (s.metadata.labels or {}).get("pods-service/pod-uid") == str(pod.uid)]


def decoded(secret) -> dict:
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


@pytest.fixture
def alice(tenant):
    return Principal(tenant=tenant, username="alice")


def test_secret_map_values_travel_in_the_pods_secret_only(sim, core, alice):
    from pods.services.pods import pod_create

    secret_create(principal=alice, data={"secret_id": "dbpass", "secret_value": VALUE})
    pod = pod_create(principal=alice, data={
        "pod_id": "web", "image": "kubesim/happy",
        "secret_map": {"DB": "${secret:dbpass}", "RND": "${pods:random:24}", "HOST": "${pods:url}"},
        "environment_variables": {"DATABASE_URL": "postgres://u:${pods:secrets:DB}@db/x", "PLAIN": "1",
                                  "TOKEN": "${pods:secrets:RND}", "ME": "${pods:secrets:HOST}"},
        "volume_mounts": {"/etc/app.ini": {"type": "ephemeral", "config_content": "pw=${pods:secrets:DB}\n"}}})
    reconcile_pod(pod.pk)
    kpod = core.read_namespaced_pod(pod.k8_name, "default")
    spec_text = json.dumps(core.api_client.sanitize_for_serialization(kpod))
    assert VALUE not in spec_text
    env = {e.name: e for e in kpod.spec.containers[0].env}
    assert env["PLAIN"].value == "1"
    assert env["DATABASE_URL"].value is None and env["DATABASE_URL"].value_from.secret_key_ref.key == "DATABASE_URL"
    values = {}
    for secret in secrets_of(core, pod):
        values.update(decoded(secret))
    assert values["DATABASE_URL"] == f"postgres://u:{VALUE}@db/x"
    assert values["app.ini"] == f"pw={VALUE}\n"
    assert len(values["TOKEN"]) == 24 and values["TOKEN"].isalnum()
    assert values["ME"] == Pod.objects.get(pk=pod.pk).networking["default"]["url"]
    # Inside the (simulated) container the program sees the values.
    sim.advance(5)
    shown = sim.exec("default", pod.k8_name, ["sh", "-c", "printenv DATABASE_URL; cat /etc/app.ini"], container="pod")
    assert shown.status == 0, shown.stderr
    assert shown.stdout.decode() == f"postgres://u:{VALUE}@db/x\npw={VALUE}\n"
    # The random value is kept across restarts.
    assert Pod.objects.get(pk=pod.pk).generated_secrets_encrypted
    assert values["TOKEN"] not in json.dumps(Pod.objects.filter(pk=pod.pk).values("secret_map")[0])


def test_a_deleted_secret_stops_the_pod_with_a_message(sim, core, alice):
    from pods.services.pods import pod_create

    secret = secret_create(principal=alice, data={"secret_id": "dbpass", "secret_value": VALUE})
    pod = pod_create(principal=alice, data={"pod_id": "web", "image": "kubesim/happy",
                                            "secret_map": {"DB": "${secret:dbpass}"},
                                            "environment_variables": {"X": "${pods:secrets:DB}"}})
    secret_delete(secret=secret, principal=alice)
    reconcile_pod(pod.pk)
    pod = Pod.objects.get(pk=pod.pk)
    assert pod.status == S.ERROR
    assert "dbpass" in pod.status_container["message"]
