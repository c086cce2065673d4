"""Bring one pod toward its desired state now: spawn, adopt, or tear down.

Every step is idempotent and guarded by compare-and-set transitions, so a redelivered task, two
workers on the same pod, or a task racing the sweep are all harmless. What a task cannot finish
(the cluster is down, the worker dies) the sweep re-drives later.

Spawn:  REQUESTED --(claim, new instance id; committed)--> SPAWNER SETUP
        --(Service, Pod, its NetworkPolicy and Secrets created, or adopted after a lost
          response)--> CREATING
Stop:   any live status --> DELETING --(objects gone; the sweep sees it)--> STOPPED

The NetworkPolicy and the Secrets are owned by the Kubernetes Pod: whoever deletes the Pod (a
teardown, the deletion of the pod row, the sweep's orphan collection) deletes them with it.
"""
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction

from core.errors import DomainError
from core.prepared import one_or_none
from pods.choices import PodStatus, RequestedStatus
from pods.lifecycle import request_status, transition, wake_reconciler
from pods.models import Pod
from workers.kube import api as kube
from workers.kube.errors import AlreadyExists, PermanentKubeError, TransientKubeError
from workers.kube.manifests import (
    LABEL_INSTANCE,
    LABEL_POD_UID,
    default_deny_policy,
    network_policy,
    pod_claim_manifests,
    pod_manifest,
    pod_secrets,
    pull_secret,
    service_manifest,
)
from workers.spec import pod_spec_for

logger = logging.getLogger(__name__)
S = PodStatus
ACTOR = "spawner"
TEARDOWN_FROM = (S.REQUESTED, S.SPAWNER_SETUP, S.CREATING, S.AVAILABLE, S.ERROR, S.COMPLETE)


def reconcile_pod(pod_pk: int) -> str:
    """One pass for one pod; returns what it did (for logs and tests)."""
    pod = one_or_none(Pod.objects.select_related("tenant").filter(pk=pod_pk))
    if pod is None:
        return "gone"  # deleted: the sweep removes its objects as orphans
    wants = pod.status_requested
    if wants in (RequestedStatus.OFF, RequestedStatus.RESTART):
        if pod.status == S.STOPPED:
            if wants == RequestedStatus.RESTART:
                return restart_from_stopped(pod)
            return "at rest"
        return teardown(pod)
    if pod.status == S.REQUESTED:
        return spawn(pod)
    if pod.status == S.SPAWNER_SETUP:
        return create_objects(pod)
    return f"nothing to do ({pod.status})"


def restart_from_stopped(pod: Pod) -> str:
    """RESTART has finished its stop half: ask for ON again and spawn."""
    request_status(pod, requested=RequestedStatus.ON, actor=ACTOR, message="restart: pod stopped, starting it again")
    if transition(pod, to=S.REQUESTED, expected=[S.STOPPED], actor=ACTOR, message="restarting"):
        return spawn(pod)
    return "restart raced"


def spawn(pod: Pod) -> str:
    """Claim a REQUESTED pod (skipping it if another worker holds the row) and create its objects."""
    with transaction.atomic():
        locked = one_or_none(Pod.objects.select_for_update(skip_locked=True)
                             .filter(pk=pod.pk, status=S.REQUESTED, status_requested=RequestedStatus.ON))
        if locked is None:
            return "claimed elsewhere"
        # The instance id is committed before anything is created, so a create whose response
        # is lost can be recognised as ours (same uid and instance labels) and adopted.
        won = transition(pod, to=S.SPAWNER_SETUP, expected=[S.REQUESTED], actor=ACTOR,
                         fields={"instance_id": uuid.uuid4(), "status_container": {"message": "Creating the pod."},
                                 "start_instance_ts": None, "time_to_stop_ts": None})
    if not won:
        return "claimed elsewhere"
    return create_objects(pod)


def create_objects(pod: Pod) -> str:
    """Create (or adopt) the Service, the Pod and its Secrets of the current instance, then CREATING.

    The Secrets are created right after the Pod, owned by it (the Pod's uid is only known once
    it exists), while the kubelet is still setting up the pod's sandbox; a kubelet that looks
    for one a moment too early retries.
    """
    try:
        spec = pod_spec_for(pod)
    except Pod.DoesNotExist:  # deleted while it was being spawned: the sweep removes what is left
        return "gone"
    except Exception as exc:  # noqa: BLE001 - a spec that cannot be built is the user's to fix
        if not isinstance(exc, DomainError):  # a domain error explains itself; anything else is a bug
            logger.exception("cannot build the spec of pod %s", pod.pk)
        transition(pod, to=S.ERROR, expected=[S.SPAWNER_SETUP], actor=ACTOR,
                   fields={"status_container": {"message": f"The pod's definition cannot be run: {exc}"}},
                   message="invalid definition")
        return "invalid spec"
    try:
        ensure_default_deny(spec.namespace)
        for claim in pod_claim_manifests(spec, settings.PODS_POD_CLAIM_SIZE_MB, settings.PODS_STORAGE_CLASS):
            _create_claim(claim)
        service = service_manifest(spec)
        kservice = _create_or_adopt("service", service, spec) if service is not None else None
        if spec.registry_auth and kservice is not None:  # before the Pod: the first pull needs it
            _create_or_adopt("secret", pull_secret(spec, _owner("Service", kservice)), spec)
        kpod = _create_or_adopt("pod", pod_manifest(spec), spec)
        owner_uid = kpod["metadata"]["uid"]
        if spec.registry_auth and kservice is None:
            _create_or_adopt("secret", pull_secret(spec, _owner("Pod", kpod)), spec)
        _create_or_adopt("networkpolicy", network_policy(spec, owner_uid), spec)
        for secret in pod_secrets(spec, owner_uid=owner_uid):
            _create_or_adopt("secret", secret, spec)
    except PermanentKubeError as exc:
        transition(pod, to=S.ERROR, expected=[S.SPAWNER_SETUP], actor=ACTOR,
                   fields={"status_container": {"message": f"Kubernetes refused the pod: {exc}"}},
                   message="Kubernetes refused the pod")
        return "refused"
    # Transient errors propagate: the task retries with backoff, and the sweep re-drives.
    transition(pod, to=S.CREATING, expected=[S.SPAWNER_SETUP], actor=ACTOR,
               fields={"status_container": {"message": "The pod is starting."}})
    return "created"


DEFAULT_DENY_RECHECK_SECONDS = 300
_default_deny_checked: dict[str, float] = {}  # namespace -> time.monotonic() this process made sure


def ensure_default_deny(namespace: str) -> None:
    """The namespace's default-deny ingress policy for managed pods: created if missing, checked
    again every few minutes (one request, not one per spawn), so a deleted one comes back."""
    checked = _default_deny_checked.get(namespace)
    if checked is not None and time.monotonic() - checked < DEFAULT_DENY_RECHECK_SECONDS:
        return
    try:
        kube.create("networkpolicy", default_deny_policy(namespace))
    except AlreadyExists:
        pass
    _default_deny_checked[namespace] = time.monotonic()


def forget_default_deny() -> None:
    """Check the default-deny policy again at the next spawn (tests that reset the cluster)."""
    _default_deny_checked.clear()


def _create_claim(manifest: dict) -> None:
    """A pod-private claim (``pvc`` mount): created once, kept across restarts (409: it exists)."""
    try:
        kube.create("pvc", manifest)
    except AlreadyExists:
        pass


def _owner(kind: str, obj: dict) -> dict:
    return {"apiVersion": "v1", "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"]}


def _create_or_adopt(kind: str, manifest: dict, spec) -> dict:
    """Create the object, or adopt it when an earlier attempt of this instance made it."""
    name = manifest["metadata"]["name"]
    try:
        return kube.create(kind, manifest)
    except AlreadyExists:
        if kind == "secret":
            # A Secret's name holds a hash of the instance id: one that exists was made by an
            # earlier attempt of this very instance. Adopted unread (the worker may create
            # Secrets, never read them back).
            return manifest
        existing = kube.read(kind, name)
    if existing is None:  # deleted in between: try once more
        return kube.create(kind, manifest)
    labels = existing.get("metadata", {}).get("labels") or {}
    if labels.get(LABEL_POD_UID) == spec.pod_uid and labels.get(LABEL_INSTANCE) == spec.instance_id:
        logger.info("adopting %s %s (created by an earlier attempt)", kind, name)
        return existing
    # A predecessor's object (an older run, or a deleted pod with the same id): never adopt it.
    logger.info("replacing stale %s %s", kind, name)
    kube.delete(kind, name, grace_seconds=0, uid=existing["metadata"].get("uid"))
    try:
        return kube.create(kind, manifest)
    except AlreadyExists as exc:
        # Still terminating: fail transiently; the retry or the sweep will get it next time.
        raise TransientKubeError(f"{kind} {name} of a previous run is still terminating") from exc


def teardown(pod: Pod) -> str:
    """Move to DELETING and delete the Pod and Service; the sweep marks STOPPED once they are gone."""
    if pod.status != S.DELETING:
        if not transition(pod, to=S.DELETING, expected=TEARDOWN_FROM, actor=ACTOR,
                          fields={"status_container": {"message": "The pod is stopping."}}):
            return "teardown raced"
    grace = settings.PODS_STOP_GRACE_SECONDS
    pod_gone = not kube.delete("pod", pod.k8_name, grace_seconds=grace)
    service_gone = not kube.delete("service", pod.k8_name)
    kube.delete("networkpolicy", pod.k8_name)  # owned by the Pod anyway; gone at once is tidier
    if pod_gone and service_gone:
        finish_stop(pod)
        return "stopped"
    return "deleting"


def finish_stop(pod: Pod) -> bool:
    """DELETING → STOPPED with the run's fields cleared; RESTART continues with a new spawn."""
    done = transition(pod, to=S.STOPPED, expected=[S.DELETING], actor=ACTOR, fields={
        "status_container": {}, "start_instance_ts": None, "time_to_stop_ts": None,
        "time_to_stop_instance": None})
    if done and pod.status_requested == RequestedStatus.RESTART:
        wake_reconciler(pod.pk)
    return done



def remove_objects(name: str, pod_uid: str) -> int:
    """Delete the Pod and Service named ``name`` if they belong to pod row ``pod_uid`` (deleted);
    the Pod's NetworkPolicy and Secrets, owned by it, are deleted by the cluster with it.

    Reads each object first and deletes it only with that exact object's uid as precondition,
    so a newer pod that reused the id (and so the name) is never touched. Returns how many were
    deleted; 404 anywhere is success. (The NetworkPolicy was read and deleted here too: two of
    six API calls per deleted pod, for an object the garbage collector removes anyway.)
    """
    deleted = 0
    for kind in ("pod", "service"):
        existing = kube.read(kind, name)
        if existing is None:
            continue
        labels = existing.get("metadata", {}).get("labels") or {}
        if labels.get(LABEL_POD_UID) != pod_uid:
            continue
        if kube.delete(kind, name, grace_seconds=settings.PODS_STOP_GRACE_SECONDS if kind == "pod" else None,
                       uid=existing["metadata"].get("uid")):
            deleted += 1
    return deleted
