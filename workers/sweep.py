"""The reconcile sweep: observe the whole cluster at O(1) API cost and converge every pod.

One labelled list of pods, one of services and one of Warning events per namespace; one query
for the pods that may still change; bulk writes for what did. Anything that needs Kubernetes
writes (spawn, teardown) is handed to ``workers.reconcile_pod`` tasks; the sweep itself only
lists, and deletes orphans.
"""
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import metrics
from core.gcpause import paused as gc_paused
from pods.choices import IN_FLIGHT, PodStatus, RequestedStatus, can_transition
from pods.dispatch import send_task
from pods.lifecycle import Change, apply_transitions, request_status, wake_reconciler
from pods.models import Pod, k8s_name
from tenancy.models import Tenant
from workers import backlog, cluster_health, orphan_clock, quiet
from workers.kube import api as kube
from workers.kube.errors import KubeError
from workers.kube.manifests import LABEL_INSTANCE, LABEL_POD_UID
from workers.kube.metering import counting_requests
from workers.observe import observe

logger = logging.getLogger(__name__)
S = PodStatus
ACTOR = "reconciler"
STARTING = (S.REQUESTED, S.SPAWNER_SETUP, S.CREATING)
# A failed pod's Warning events keep being recorded this long (an image pull failure's events
# often arrive after the watcher already marked the pod ERROR).
FAILED_WARNINGS_WINDOW = timedelta(minutes=10)
ROW_FIELDS = ("pk", "uid", "tenant_id", "pod_id", "status", "status_requested", "instance_id",
              "status_container", "status_changed_at", "start_instance_ts", "time_to_stop_ts",
              "time_to_stop_instance", "time_to_stop_default", "health", "update_ts")


@dataclass
class SweepReport:
    kube_requests: int = 0  # measured: every request sent, retries included
    pods_seen: int = 0
    transitions: int = 0
    container_updates: int = 0
    reconciles: list = field(default_factory=list)
    orphans_deleted: int = 0
    cluster: str = "ok"


def _labels(obj: dict) -> dict:
    return obj.get("metadata", {}).get("labels") or {}


def needs_work() -> Q:
    """Pods that may still change on their own or need the worker."""
    return (Q(status__in=IN_FLIGHT)
            # Recently failed pods: only their Warning events are still followed (see _sweep).
            | Q(status=S.ERROR, status_requested=RequestedStatus.ON,
                status_changed_at__gte=timezone.now() - FAILED_WARNINGS_WINDOW)
            | Q(status=S.STOPPED, status_requested=RequestedStatus.RESTART)
            | (Q(status__in=(S.ERROR, S.COMPLETE)) & ~Q(status_requested=RequestedStatus.ON)))


def _rows():
    """Pods that may still change on their own or need the worker: one query."""
    return list(Pod.objects.filter(needs_work()).values(*ROW_FIELDS))


def _stub(row: dict) -> Pod:
    """A Pod carrying just what transitions and events need (no extra query)."""
    return Pod(pk=row["pk"], uid=row["uid"], tenant_id=row["tenant_id"], pod_id=row["pod_id"],
               status=row["status"], status_requested=row["status_requested"])


def _warnings_by_pod(events: list) -> dict:
    grouped = defaultdict(list)
    for event in events:
        obj = event.get("involvedObject") or {}
        if obj.get("kind") == "Pod":
            when = event.get("lastTimestamp") or event.get("eventTime") or ""
            grouped[obj.get("name")].append((when, f"{event.get('reason', '')}: {event.get('message', '')}"))
    keep = settings.PODS_WARNINGS_KEPT
    return {name: [m for _, m in sorted(items)[-keep:]] for name, items in grouped.items()}


class Plan:
    """What a pass decided, pod by pod; applied in bulk at the end (CAS, so races are harmless).

    Used by the sweep for every pod, and by the cluster watch for the one pod an event is about.
    """

    def __init__(self, now, *, redrive_seconds: float | None = None, observed_since=None):
        self.now = now
        # What Kubernetes showed is known to be current only from ``observed_since`` on (the
        # sweep: when its lists began; the informer: a margin for the watch's delivery lag).
        # A row that became AVAILABLE after that may have been concluded from a newer look at
        # the cluster than this one: its pod's absence here proves nothing yet.
        self.observed_since = now if observed_since is None else observed_since
        self.changes, self.container_updates, self.to_reconcile, self.ttl_expired = [], [], [], []
        self.reconciles = []
        self.deferred = []  # uids judged from too old a look: plan them again later
        self.queue_idle = True  # the sweep says otherwise when spawns are waiting in the broker
        self.start_requested_at = {}  # pk -> the start request of a run reaching AVAILABLE now
        self.redrive_before = now - timedelta(
            seconds=settings.PODS_REDRIVE_SECONDS if redrive_seconds is None else redrive_seconds)
        self.unschedulable_before = now - timedelta(seconds=settings.PODS_UNSCHEDULABLE_SECONDS)

    def row(self, row: dict, name: str, kpod: dict | None, *, service_present: bool,
            pod_warnings: list | None) -> None:
        """Decide for one pod given what Kubernetes shows of it (``kpod`` None: no Pod).

        ``pod_warnings`` None means "not observed" (keep what is stored).
        """
        status, wants = row["status"], row["status_requested"]
        instance = str(row["instance_id"]) if row["instance_id"] else None
        if kpod is not None and _labels(kpod).get(LABEL_INSTANCE) != instance:
            kpod = None  # an older run's object: the sweep removes it as an orphan

        if wants != RequestedStatus.ON:
            if status == S.DELETING and kpod is None and not service_present:
                self.changes.append(_stop_change(row))
                if wants == RequestedStatus.RESTART:
                    self.to_reconcile.append(row["pk"])
            elif status != S.DELETING or (kpod is not None and not kpod["metadata"].get("deletionTimestamp")):
                self.to_reconcile.append(row["pk"])  # teardown not started, or its deletes were lost
            return

        if kpod is None:
            if status == S.AVAILABLE and row["status_changed_at"] >= self.observed_since:
                self.deferred.append(str(row["uid"]))
            elif status == S.AVAILABLE:
                self.changes.append(Change(_stub(row), S.REQUESTED, (S.AVAILABLE,), {"status_container": {
                    "message": "The Kubernetes pod disappeared; starting it again."}}, "pod vanished"))
                self.to_reconcile.append(row["pk"])
            elif status in STARTING and row["status_changed_at"] < self.redrive_before:
                if status == S.CREATING:
                    self.changes.append(Change(_stub(row), S.REQUESTED, (S.CREATING,), {"status_container": {
                        "message": "The pod never appeared in Kubernetes; creating it again."}}, "re-driven"))
                self.to_reconcile.append(row["pk"])
            elif status == S.DELETING:
                self.to_reconcile.append(row["pk"])
            return

        stored_warnings = row["health"].get("warnings", [])
        if pod_warnings is None:
            pod_warnings = stored_warnings
        seen = observe(kpod, pod_warnings)
        if seen.status is None:
            return
        container = seen.container
        if (seen.status == S.CREATING and container.get("reason") == "Unschedulable" and status == S.CREATING
                and row["status_changed_at"] < self.unschedulable_before):
            seen = type(seen)(S.ERROR, {**container, "message": (
                f"The pod could not be scheduled within {settings.PODS_UNSCHEDULABLE_SECONDS} s. "
                + container["message"].removeprefix("Waiting for a node: ").rstrip(".") + ".")})
            container = seen.container
        warnings_changed = stored_warnings != pod_warnings
        health = {**row["health"], "warnings": pod_warnings} if warnings_changed else None
        if seen.status != status and can_transition(status, seen.status):
            fields = {"status_container": container}
            if seen.status == S.AVAILABLE and not row["start_instance_ts"]:
                fields.update(_run_clock(row, self.now))
                if row.get("update_ts"):
                    self.start_requested_at[row["pk"]] = row["update_ts"]
            if seen.wants_log_tail:
                fields["status_container"] = {**container, "message": _with_log_tail(container["message"], name)}
            if health is not None:
                fields["health"] = health
            self.changes.append(Change(_stub(row), seen.status, (status,), fields, container.get("message", "")))
        elif warnings_changed or _container_changed(row["status_container"], container):
            self.container_updates.append((row, container, health))
        if status == S.AVAILABLE and row["time_to_stop_ts"] and row["time_to_stop_ts"] <= self.now:
            self.ttl_expired.append(row)

    def warnings_only(self, row: dict, pod_warnings: list) -> None:
        """A failed pod at rest: keep its Warning events current (shown in the admin), nothing else."""
        if pod_warnings and pod_warnings != row["health"].get("warnings", []):
            self.container_updates.append((row, row["status_container"], {**row["health"], "warnings": pod_warnings}))

    def apply(self) -> tuple[int, int]:
        """Write everything decided; enqueue the reconciles. Returns (transitions, updates)."""
        moved = apply_transitions(self.changes, actor=ACTOR)
        for pod in moved:
            requested_at = self.start_requested_at.get(pod.pk)
            if requested_at is not None and pod.status == S.AVAILABLE:
                metrics.SPAWN_SECONDS.observe(max(0.0, (self.now - requested_at).total_seconds()))
            if pod.status == S.AVAILABLE:
                # The first lines are readable right away; the periodic pass follows.
                send_task("workers.collect_pod_logs", pod.pk)
        updated = _write_containers(self.container_updates)
        for row in self.ttl_expired:
            request_status(_stub(row), requested=RequestedStatus.OFF, actor=ACTOR,
                           message="reconciler turned the pod OFF: its time_to_stop was reached")
            self.to_reconcile.append(row["pk"])
        self.reconciles = sorted(set(self.to_reconcile))
        _enqueue(self.reconciles, queue_idle=self.queue_idle)
        return len(moved), updated


def sweep() -> SweepReport:
    """One full pass. Safe to run concurrently with tasks and API writes (everything is CAS).

    The report's ``kube_requests`` is what the pass sent, as counted by the client.
    """
    report = SweepReport()
    started = time.perf_counter()
    with counting_requests() as counted, gc_paused():  # 10,000 pods' dicts hold no cycles (core/gcpause.py)
        _sweep(report)
    report.kube_requests = counted.requests
    metrics.SWEEP_SECONDS.labels("sweep").observe(time.perf_counter() - started)
    metrics.SWEEP_LAST.labels("sweep", "ok" if report.cluster == "ok" else "cluster_unreachable").inc()
    return report


def _sweep(report: SweepReport) -> None:
    now = timezone.now()
    try:
        kpods = kube.list_managed("pod").get("items", [])
        ksvcs = kube.list_managed("service").get("items", [])
        events = kube.list_warning_events().get("items", [])
    except KubeError as exc:
        # Leave every pod exactly as it is; nothing observed means nothing to conclude.
        level = logging.WARNING if quiet.changed("sweep-cluster", str(exc)) else logging.DEBUG
        cluster_health.record(ok=False, error=str(exc))
        logger.log(level, "sweep: cluster unreachable, pods left untouched: %s", exc)
        report.cluster = "unreachable"
        return
    cluster_health.record(ok=True)
    if quiet.forget("sweep-cluster"):
        logger.warning("sweep: cluster reachable again")

    pods_by_uid = {_labels(p).get(LABEL_POD_UID): p for p in kpods}
    svcs_by_uid = {_labels(s).get(LABEL_POD_UID): s for s in ksvcs}
    warnings = _warnings_by_pod(events)
    rows = _rows()
    report.pods_seen = len(rows)
    tenants = {pk: (site, tid) for pk, site, tid in Tenant.objects.values_list("pk", "site_id", "tenant_id")} \
        if rows else {}

    queue_idle = backlog.spawn_queue_length() == 0
    # ``now`` was taken before the lists: a row that moved after it is newer than what they show.
    plan = Plan(now, redrive_seconds=redrive_seconds(queue_idle), observed_since=now)
    plan.queue_idle = queue_idle
    expected_instance = {}  # uid -> instance id whose objects may legitimately exist
    for row in rows:
        uid = str(row["uid"])
        name = k8s_name(*tenants[row["tenant_id"]], row["pod_id"])
        if row["status"] != S.STOPPED:
            expected_instance[uid] = str(row["instance_id"]) if row["instance_id"] else None
        if row["status"] == S.ERROR and row["status_requested"] == RequestedStatus.ON:
            plan.warnings_only(row, warnings.get(name, []))
            continue
        plan.row(row, name, pods_by_uid.get(uid), service_present=svcs_by_uid.get(uid) is not None,
                 pod_warnings=warnings.get(name, []))
    report.transitions, report.container_updates = plan.apply()
    report.orphans_deleted = _delete_orphans(kpods, ksvcs, expected_instance, now)
    report.reconciles = plan.reconciles


def redrive_seconds(queue_idle: bool) -> float:
    """How old a starting pod without a Kubernetes pod must be to be spawned again: the short
    idle delay when nothing waits in the spawn queue (its task is lost), else the long one."""
    return min(settings.PODS_REDRIVE_IDLE_SECONDS if queue_idle else settings.PODS_REDRIVE_SECONDS,
               settings.PODS_REDRIVE_SECONDS)


def _stop_change(row) -> Change:
    return Change(_stub(row), S.STOPPED, (S.DELETING,), {
        "status_container": {}, "start_instance_ts": None, "time_to_stop_ts": None, "time_to_stop_instance": None})


def _run_clock(row, now) -> dict:
    """First AVAILABLE of a run: when it started and when it must stop."""
    ttl = row["time_to_stop_instance"] if row["time_to_stop_instance"] is not None else row["time_to_stop_default"]
    return {"start_instance_ts": now, "time_to_stop_ts": None if ttl == -1 else now + timedelta(seconds=ttl)}


def _container_changed(old: dict, new: dict) -> bool:
    keys = ("phase", "message", "ready", "restart_count", "reason")
    return any((old or {}).get(k) != new.get(k) for k in keys)


def _with_log_tail(message: str, name: str, lines: int = 10) -> str:
    try:
        tail = kube.read_log(name, tail_lines=lines, limit_bytes=4096).strip()
    except KubeError:
        return message
    return f"{message}\nLast log lines:\n{tail}" if tail else message


def _write_containers(updates) -> int:
    """Status-container (and warning) changes that are not transitions: one bulk UPDATE."""
    if not updates:
        return 0
    pods = []
    for row, container, health in updates:
        pod = _stub(row)
        pod.status_container = container
        pod.health = health if health is not None else row["health"]
        pods.append(pod)
    with transaction.atomic():
        # In batches: one UPDATE with a CASE per row grows quadratically (10,000 rows: minutes).
        Pod.objects.bulk_update(pods, ["status_container", "health"], batch_size=500)
    return len(pods)


def _delete_orphans(kpods, ksvcs, expected_instance, now) -> int:
    """Managed objects that belong to no live run, deleted once seen as such for the grace period.

    The grace period runs on our own clock from the first sweep that saw the object orphaned
    (kept in Redis), not from its creationTimestamp: the API server's clock may differ from
    ours, and an object created by an in-flight spawn must never be mistaken for an orphan.
    """
    unknown = {_labels(o).get(LABEL_POD_UID) for o in (*kpods, *ksvcs)} - set(expected_instance)
    if unknown:
        # Pods at rest keep a finished run's objects (ERROR/COMPLETE keep their logs readable).
        for uid, status, instance in Pod.objects.filter(uid__in=[u for u in unknown if _is_uuid(u)]) \
                .values_list("uid", "status", "instance_id"):
            if status in (S.ERROR, S.COMPLETE):
                expected_instance[str(uid)] = str(instance) if instance else None
    candidates = {}
    for kind, objects in (("pod", kpods), ("service", ksvcs)):
        for obj in objects:
            labels, meta = _labels(obj), obj.get("metadata", {})
            uid = labels.get(LABEL_POD_UID)
            if uid in expected_instance and labels.get(LABEL_INSTANCE) == expected_instance[uid]:
                continue
            if not meta.get("deletionTimestamp"):
                candidates[meta["uid"]] = (kind, meta["name"], uid)
    first_seen = orphan_clock.observe(candidates, now)
    grace = timedelta(seconds=settings.PODS_ORPHAN_GRACE_SECONDS)
    deleted = 0
    for object_uid, (kind, name, pod_uid) in candidates.items():
        if now - first_seen[object_uid] < grace:
            continue
        logger.info("deleting orphaned %s %s (pod uid %s)", kind, name, pod_uid)
        try:
            kube.delete(kind, name, uid=object_uid)
            deleted += 1
        except KubeError as exc:
            logger.warning("could not delete orphaned %s %s: %s", kind, name, exc)
    return deleted


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def _enqueue(pod_pks, *, queue_idle: bool = True):
    for pk in backlog.not_nudged_recently(pod_pks, within=redrive_seconds(queue_idle)):
        wake_reconciler(pk)

