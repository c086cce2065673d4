"""The pod state machine and the one hook that wakes the worker.

Every status change is one compare-and-set ``UPDATE ... WHERE status IN (expected)`` plus one
event row, in one transaction. An update that matches no row means another actor (an API
request, another worker, the sweep) got there first: the caller gets ``False`` and carries on,
it is not an error. A move that :data:`pods.choices.TRANSITIONS` does not allow raises
:class:`IllegalTransition` – that is a bug in the caller, never a race.

Desired-state writes (``status_requested``) are not status transitions; :func:`request_status`
records them with an event the same way. Whoever changes desired state calls
:func:`wake_reconciler`, which sends the reconcile task only after the transaction commits.
"""
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from core import metrics
from pods.choices import can_transition
from pods.models import Pod, PodEvent, PodEventKind

logger = logging.getLogger(__name__)

RECONCILE_TASK = "workers.reconcile_pod"
REMOVE_OBJECTS_TASK = "workers.remove_pod_objects"


class IllegalTransition(Exception):
    """A transition that TRANSITIONS does not allow: a programming error."""


def _check(expected: Iterable[str], to: str) -> tuple[str, ...]:
    expected = tuple(expected)
    if not expected:
        raise IllegalTransition(f"transition to {to!r} needs at least one expected status")
    for source in expected:
        if not can_transition(source, to):
            raise IllegalTransition(f"{source!r} -> {to!r} is not an allowed transition")
    return expected


def _status_message(actor: str, to: str, message: str) -> str:
    return f"{actor} set status to {to}" + (f": {message}" if message else "")


def transition(pod: Pod, *, to: str, expected: Iterable[str] | None = None, message: str = "",
               actor: str = "system", fields: dict | None = None) -> bool:
    """Move ``pod`` to status ``to`` if its status is still one of ``expected``.

    ``expected`` defaults to the status the caller read (``pod.status``). ``fields`` are other
    columns written by the same UPDATE (``status_container``, ``start_instance_ts``, ...).
    On success the in-memory ``pod`` is updated too, one event is written and True returned;
    when the row had already moved on (or is gone) nothing is written and False returned.
    Cost: one UPDATE and one INSERT.
    """
    expected = _check((pod.status,) if expected is None else expected, to)
    now = timezone.now()
    values = {**(fields or {}), "status": to, "status_changed_at": now}
    with transaction.atomic():
        won = Pod.objects.filter(pk=pod.pk, status__in=expected).update(**values) == 1
        if not won:
            return False
        PodEvent.for_pod(
            pod, actor=actor, kind=PodEventKind.STATUS, to_status=to,
            from_status=expected[0] if len(expected) == 1 else "",
            message=_status_message(actor, to, message),
        ).save()
    for name, value in values.items():
        setattr(pod, name, value)
    metrics.record_transition(to, values.get("status_container"))
    return True


@dataclass(frozen=True)
class Change:
    """One pod's transition in :func:`apply_transitions`."""

    pod: Pod
    to: str
    expected: tuple[str, ...]
    fields: dict = field(default_factory=dict)
    message: str = ""


def apply_transitions(changes: Sequence[Change], *, actor: str = "system") -> list[Pod]:
    """Apply many compare-and-set transitions at a constant number of queries; for the sweep.

    Locks the candidate rows (one ``SELECT ... FOR UPDATE``; Postgres re-checks the status
    of a row that changed while we waited), keeps those whose status is still expected,
    writes them with one bulk UPDATE per distinct set of ``fields`` keys and one bulk INSERT of
    events. Returns the pods that moved (their in-memory state updated); the rest lost a race.
    Every change is checked first: one illegal change raises :class:`IllegalTransition` before
    anything is written (filter with :func:`pods.choices.can_transition`).
    """
    if not changes:
        return []
    by_pk = {}
    for change in changes:
        _check(change.expected, change.to)
        if change.pod.pk in by_pk:
            raise IllegalTransition(f"pod {change.pod.pk} appears twice in one batch")
        by_pk[change.pod.pk] = change
    now = timezone.now()
    with transaction.atomic():
        current = dict(Pod.objects.select_for_update().filter(pk__in=by_pk)
                       .values_list("pk", "status"))
        winners = [c for pk, c in by_pk.items() if current.get(pk) in c.expected]
        groups = defaultdict(list)
        for change in winners:
            for name, value in {**change.fields, "status": change.to, "status_changed_at": now}.items():
                setattr(change.pod, name, value)
            groups[tuple(sorted(change.fields))].append(change.pod)
        for names, pods in groups.items():
            Pod.objects.bulk_update(pods, [*names, "status", "status_changed_at"])
        PodEvent.objects.bulk_create([
            PodEvent.for_pod(c.pod, actor=actor, kind=PodEventKind.STATUS, to_status=c.to,
                             from_status=current[c.pod.pk],
                             message=_status_message(actor, c.to, c.message))
            for c in winners
        ])
    for change in winners:
        metrics.record_transition(change.to, change.fields.get("status_container"))
    return [c.pod for c in winners]


def request_status(pod: Pod, *, requested: str, actor: str, message: str = "",
                   fields: dict | None = None) -> None:
    """Set ``status_requested`` (desired state) with an event; the caller wakes the worker.

    Desired state is last-writer-wins by design: the user's newest wish is the one to converge
    to, and the reconciler reads it fresh on every pass.
    """
    values = {**(fields or {}), "status_requested": requested, "update_ts": timezone.now()}
    with transaction.atomic():
        Pod.objects.filter(pk=pod.pk).update(**values)
        PodEvent.for_pod(pod, actor=actor, kind=PodEventKind.REQUESTED,
                         message=message or f"{actor} set status_requested to {requested}").save()
    for name, value in values.items():
        setattr(pod, name, value)


def wake_reconciler(pod_pk: int) -> None:
    """Ask the worker to reconcile pod ``pod_pk`` soon, once the current transaction commits.

    The task is sent by name so this app never imports the worker code. A broker failure is
    logged and swallowed: the request that changed desired state has already committed, and the
    periodic sweep converges the pod anyway, so an API call never fails because Redis blipped.
    """
    transaction.on_commit(lambda: _send(RECONCILE_TASK, pod_pk))


def remove_objects_of_deleted_pod(k8_name: str, pod_uid) -> None:
    """After a pod row's deletion commits, ask the worker to delete its Kubernetes objects now.

    The objects are recognised by the deleted row's uid label, so a new pod that reuses the id
    (and so the name) is never touched. If the message is lost, the sweep removes the objects
    as orphans after its grace period.
    """
    transaction.on_commit(lambda: _send(REMOVE_OBJECTS_TASK, k8_name, str(pod_uid)))


def _send(task: str, *args) -> None:
    """Publish a task (after the commit), from the request or the process's sender thread; see
    :mod:`pods.dispatch` for why it never raises."""
    from pods.dispatch import send_soon

    send_soon(task, *args)
