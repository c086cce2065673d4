"""A pod deleted while the worker derives its spec is "gone", not an invalid spec (seen under load)."""
import pytest

from pods.derive import ensure_credentials
from pods.models import Pod, PodCredentials
from workers.spawner import create_objects

pytestmark = pytest.mark.django_db(transaction=True)


def _pod(tenant, pod_id):
    return Pod.objects.create(tenant=tenant, pod_id=pod_id, image="kubesim/web:1", status="SPAWNER_SETUP")


def test_credentials_of_a_pod_deleted_meanwhile_raise_does_not_exist(tenant):
    pod = _pod(tenant, "racer")
    stale = Pod.objects.get(pk=pod.pk)  # what the worker read before the delete
    Pod.objects.filter(pk=pod.pk).delete()
    with pytest.raises(Pod.DoesNotExist):
        ensure_credentials(stale)
    assert not PodCredentials.objects.exists()


def test_credentials_generated_once_when_missing(tenant):
    pod = _pod(tenant, "seeded")
    creds = ensure_credentials(Pod.objects.get(pk=pod.pk))
    assert ensure_credentials(Pod.objects.get(pk=pod.pk)).user_password == creds.user_password


def test_the_spawner_calls_such_a_pod_gone(tenant):
    pod = _pod(tenant, "gonepod")
    stale = Pod.objects.select_related("tenant").get(pk=pod.pk)
    Pod.objects.filter(pk=pod.pk).delete()
    assert create_objects(stale) == "gone"
