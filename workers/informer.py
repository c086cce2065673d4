"""The cluster informer: list + watch per kind, a mirror of our objects, a Plan per change.

One list and then one long-lived watch for each kind the reconciler observes — managed Pods,
managed Services, the namespace's Warning events — keeps a *mirror* of them in memory,
trimmed to what the decisions read. A watch resumes from the last resourceVersion it saw
(bookmarks included) when the server ends it, and lists again on 410 Gone or any gap (an error
in the middle of a stream). Every change marks the pod it is about dirty; the applier takes the
dirty pods in batches, reads their rows in one query and runs the sweep's own ``Plan`` for each,
with what the mirror shows. Steady state with nothing changing costs no Kubernetes request and
one indexed query per ``PODS_SWEEP_SECONDS`` (the timers: pods past their ``time_to_stop_ts``,
starts and stops that stalled past ``PODS_REDRIVE_SECONDS``).

Only the holder of the leader lease (workers.lease) runs it; a second process waits and takes
over within ``PODS_LEADER_LEASE_SECONDS`` when the leader dies. Orphan collection stays with the
beat sweep, now the safety net's full resync (``PODS_RESYNC_SECONDS``).
"""
import logging
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from core.gcpause import paused as gc_paused
from pods.choices import IN_FLIGHT, PodStatus, RequestedStatus
from pods.models import Pod, k8s_name
from workers import backlog, cluster_health
from workers.kube import api as kube
from workers.kube.errors import KubeError
from workers.kube.manifests import LABEL_INSTANCE, LABEL_POD_UID
from workers.lease import Lease
from workers.sweep import ROW_FIELDS, STARTING, Plan, redrive_seconds, needs_work

logger = logging.getLogger(__name__)
S = PodStatus
LEASE_NAME = "watch_cluster"
KINDS = ("pod", "service", "event")
ROW_VALUES = (*ROW_FIELDS, "tenant__site_id", "tenant__tenant_id")
BATCH = 2000  # dirty pods per query
SETTLE_SECONDS = 5.0  # how far the mirror may lag behind what the sweep saw (see Plan.observed_since)


def _trim_pod(obj: dict) -> dict:
    """What the decisions read of a Pod (observe(), the instance check): a fraction of it."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    trimmed_meta = {"name": meta.get("name"), "resourceVersion": meta.get("resourceVersion"),
                    "labels": {k: labels[k] for k in (LABEL_POD_UID, LABEL_INSTANCE) if k in labels}}
    if meta.get("deletionTimestamp"):
        trimmed_meta["deletionTimestamp"] = meta["deletionTimestamp"]
    image = ((obj.get("spec") or {}).get("containers") or [{}])[0].get("image", "")
    status = obj.get("status") or {}
    trimmed = {k: status[k] for k in ("phase", "startTime", "message", "reason") if k in status}
    containers = status.get("containerStatuses")
    if containers:  # observe() reads the first container's state, last state, readiness, restarts
        trimmed["containerStatuses"] = [{k: containers[0][k] for k in ("state", "lastState", "ready", "restartCount")
                                         if k in containers[0]}]
    unscheduled = [c for c in status.get("conditions") or ()
                   if c.get("type") == "PodScheduled" and c.get("status") == "False"]
    if unscheduled:
        trimmed["conditions"] = unscheduled
    return {"metadata": trimmed_meta, "spec": {"containers": [{"image": image}]}, "status": trimmed}


def _uid_of(obj: dict) -> str | None:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL_POD_UID)


class Mirror:
    """The informer's view of the cluster: Pods and Services by name, Warning events by the pod
    they involve. Each kind carries the resourceVersion its watch resumes from."""

    def __init__(self):
        self.pods: dict[str, dict] = {}
        self.services: dict[str, str | None] = {}  # name -> pod-uid label
        self.events: dict[str, tuple] = {}  # event name -> (pod name, when, message)
        self.events_by_pod: dict[str, set] = defaultdict(set)
        self.versions: dict[str, str | None] = dict.fromkeys(KINDS)
        self.synced: set = set()
        self.lock = threading.Lock()

    # -- applying what the cluster says (returns the pod uids it concerns) ---------------------
    def replace(self, kind: str, items: list, version: str) -> set:
        """A fresh list of ``kind``: what differs from the mirror is dirty (all of it, the first time)."""
        with self.lock:
            before = self._snapshot(kind)
            getattr(self, f"_clear_{kind}")()
            for obj in items:
                self._put(kind, obj)
            after = self._snapshot(kind)
            dirty = {uid for key, (uid, rv) in (before.items() | after.items())
                      if before.get(key) != after.get(key) and uid}
            self.versions[kind] = version
            self.synced.add(kind)
            return {uid for uid in dirty if uid}

    def apply(self, kind: str, event_type: str, obj: dict) -> set:
        """One watch event: update the mirror; the pod uids it concerns."""
        with self.lock:
            version = (obj.get("metadata") or {}).get("resourceVersion")
            if version:
                self.versions[kind] = version
            if event_type == "DELETED":
                return {uid for uid in self._drop(kind, obj) if uid}
            if event_type in ("ADDED", "MODIFIED"):
                return {uid for uid in self._put(kind, obj) if uid}
            return set()

    def _snapshot(self, kind: str) -> dict:
        if kind == "pod":
            return {n: (_uid_of(p), p["metadata"]["resourceVersion"]) for n, p in self.pods.items()}
        if kind == "service":
            return {n: (uid, None) for n, uid in self.services.items()}
        return {n: (self._pod_uid_by_name(e[0]), e[1:]) for n, e in self.events.items()}

    def _clear_pod(self):
        self.pods = {}

    def _clear_service(self):
        self.services = {}

    def _clear_event(self):
        self.events, self.events_by_pod = {}, defaultdict(set)

    def _pod_uid_by_name(self, name: str) -> str | None:
        pod = self.pods.get(name)
        return _uid_of(pod) if pod else None

    def _put(self, kind: str, obj: dict) -> set:
        name = (obj.get("metadata") or {}).get("name")
        if kind == "pod":
            old = self.pods.get(name)
            self.pods[name] = _trim_pod(obj)
            return {_uid_of(obj), _uid_of(old) if old else None}
        if kind == "service":
            old = self.services.get(name)
            self.services[name] = _uid_of(obj)
            return {_uid_of(obj), old}
        involved = obj.get("involvedObject") or {}
        if involved.get("kind") != "Pod":
            return set()
        pod_name = involved.get("name")
        when = obj.get("lastTimestamp") or obj.get("eventTime") or ""
        self.events[name] = (pod_name, when, f"{obj.get('reason', '')}: {obj.get('message', '')}")
        self.events_by_pod[pod_name].add(name)
        return {self._pod_uid_by_name(pod_name)}

    def _drop(self, kind: str, obj: dict) -> set:
        name = (obj.get("metadata") or {}).get("name")
        if kind == "pod":
            old = self.pods.pop(name, None)
            return {_uid_of(obj), _uid_of(old) if old else None}
        if kind == "service":
            return {_uid_of(obj), self.services.pop(name, None)}
        old = self.events.pop(name, None)
        if old is None:
            return set()
        names = self.events_by_pod.get(old[0])
        if names is not None:
            names.discard(name)
            if not names:
                del self.events_by_pod[old[0]]
        return {self._pod_uid_by_name(old[0])}

    # -- reading it for a decision --------------------------------------------------------------
    def observed(self, name: str, uid: str) -> tuple[dict | None, bool, list]:
        """(Pod or None, whether its Service exists, its recent warnings) for the pod row ``uid``."""
        with self.lock:
            kpod = self.pods.get(name)
            if kpod is not None and _uid_of(kpod) != uid:
                kpod = None  # a deleted namesake's object: not this row's
            service = self.services.get(name) == uid
            items = sorted(self.events[e][1:] for e in self.events_by_pod.get(name, ()))
        keep = settings.PODS_WARNINGS_KEPT
        return kpod, service, [message for _, message in items[-keep:]]

    def counts(self) -> dict:
        return {"mirror_pods": len(self.pods), "mirror_services": len(self.services), "mirror_events": len(self.events)}

    def memory_bytes(self) -> int:
        """Deep size of everything the mirror holds (each object counted once)."""
        with self.lock:
            return _deep_size([self.pods, self.services, self.events, self.events_by_pod, self.versions])


def _deep_size(root) -> int:
    seen, total, stack = set(), 0, [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
    return total


class Informer:
    """The watches and the applier of one term of leadership."""

    def __init__(self, *, timeout_seconds: int = 300, stop: threading.Event | None = None,
                 lease: Lease | None = None):
        self.timeout_seconds = timeout_seconds
        self.stop = stop or threading.Event()
        self.lease = lease
        self.mirror = Mirror()
        self.dirty: set = set()
        self.later: dict = {}  # uid -> time.monotonic() to plan it again (deferred)
        self.wake = threading.Condition()
        self.threads: list[threading.Thread] = []
        self.applied = 0  # pods planned, for operators and benchmarks
        self.passes = 0
        self._health_at = 0.0
        # Kinds whose list succeeded and whose watch has not failed since: while every kind's
        # stream is open, the cluster is reachable, and saying so costs no request.
        self.watching = dict.fromkeys(KINDS, False)

    # -- the watches ----------------------------------------------------------------------------
    def start(self) -> None:
        for kind in KINDS:
            thread = threading.Thread(target=self._follow, args=(kind,), name=f"informer-{kind}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def synced(self) -> bool:
        """Every kind listed, and every watch open: a kind whose stream broke is only known
        again from its next list, so nothing is decided from the mirror in between (after an
        outage the mirror lacks everything created meanwhile)."""
        return self.mirror.synced >= set(KINDS) and all(self.watching.values())

    def _defer(self, uids: list) -> None:
        """Rows a plan could not judge yet (see ``Plan.observed_since``): planned again later."""
        due = time.monotonic() + SETTLE_SECONDS
        for uid in uids:
            self.later.setdefault(uid, due)

    def take_due(self) -> set:
        """The deferred uids whose time came."""
        now = time.monotonic()
        due = {uid for uid, at in self.later.items() if at <= now}
        for uid in due:
            del self.later[uid]
        return due

    def _mark(self, uids: set) -> None:
        if uids:
            with self.wake:
                self.dirty |= uids
                self.wake.notify()

    def still_healthy(self) -> None:
        """Called by the timers: refresh the cluster observation while every watch is open, so
        an idle cluster does not read as "unknown" (stale) in /healthcheck."""
        if all(self.watching.values()):
            self._healthy(True)

    def _healthy(self, ok: bool, error: str = "") -> None:
        now = time.monotonic()
        if not ok or now - self._health_at > 10:
            self._health_at = now if ok else 0.0
            cluster_health.record(ok=ok, error=error)

    def _follow(self, kind: str) -> None:
        """List, then watch from the list's resourceVersion; resume, or list again on 410 or a gap."""
        backoff, version = 1.0, None
        while not self.stop.is_set():
            try:
                if version is None:
                    listed = kube.list_managed(kind) if kind != "event" else kube.list_warning_events()
                    version = listed["metadata"]["resourceVersion"]
                    with gc_paused():  # trimming 100,000 pods allocates millions of containers, no cycles
                        self._mark(self.mirror.replace(kind, listed.get("items", []), version))
                    del listed
                    self.watching[kind] = True
                    self._healthy(True)
                for event_type, obj in kube.watch_changes(kind, version, timeout_seconds=self.timeout_seconds):
                    if self.stop.is_set():
                        return
                    backoff = 1.0
                    if event_type == "ERROR":
                        raise KubeError(obj.get("message", "watch error"), status=obj.get("code"))
                    self._mark(self.mirror.apply(kind, event_type, obj))
                    version = self.mirror.versions[kind] or version
                    self._healthy(True)
            except (KubeError, OSError, urllib3.exceptions.HTTPError) as exc:
                self.watching[kind] = False
                if getattr(exc, "status", None) == 410:
                    logger.info("informer: %s resourceVersion %s expired; listing again", kind, version)
                else:
                    logger.warning("informer: %s: %s; listing again in %.0f s", kind, exc, backoff)
                    self._healthy(False, str(exc))
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
                version = None  # a gap: what happened meanwhile is only known from a new list
            except Exception:  # noqa: BLE001 - a watch must outlive any one bad event
                self.watching[kind] = False
                logger.exception("informer: %s: unexpected error; listing again in %.0f s", kind, backoff)
                version = None
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    # -- the applier ----------------------------------------------------------------------------
    def run_once(self, wait: float) -> int:
        """Wait up to ``wait`` s for changes, plan the dirty pods (and the timers' when due)."""
        with self.wake:
            if not self.dirty:
                self.wake.wait(wait)
            batch, self.dirty = self.dirty, set()
        if not self.synced():
            with self.wake:
                self.dirty |= batch  # decide only once every kind is mirrored
            self.stop.wait(0.05)
            return 0
        return self.plan(batch)

    def resync(self) -> int:
        """Every pod that may still change, planned from the mirror: the informer's own full
        resync (one query, no Kubernetes request), every ``PODS_RESYNC_SECONDS``."""
        return self.plan(set(), everything=True)

    def plan(self, uids: set, *, timers: bool = False, everything: bool = False) -> int:
        """Run the Plan for the rows of ``uids`` (and, with ``timers``, the rows whose time came;
        with ``everything``, every row that may still change)."""
        close_old_connections()
        now = timezone.now()
        queue_idle, redrive = False, None
        if timers or everything:
            # As the sweep: a start whose task was lost (nothing waits in the spawn queue) is
            # re-driven after the short idle delay, not the long one (docs/faults.md).
            queue_idle = backlog.spawn_queue_length() == 0
            redrive = redrive_seconds(queue_idle)
        rows = []
        uids = sorted(_valid_uuids(uids))
        for start in range(0, len(uids), BATCH):
            rows += Pod.objects.filter(needs_work(), uid__in=uids[start:start + BATCH]).values(*ROW_VALUES)
        if everything:
            rows = list(Pod.objects.filter(needs_work()).values(*ROW_VALUES))
        elif timers:
            seen = {row["uid"] for row in rows}
            rows += [row for row in Pod.objects.filter(_due(now, redrive)).values(*ROW_VALUES)
                     if row["uid"] not in seen]
        if not rows:
            return 0
        with gc_paused():  # a full pass builds a decision per row: many containers, no cycles
            return self._apply_plan(rows, now, queue_idle, redrive)

    def _apply_plan(self, rows: list, now, queue_idle: bool, redrive) -> int:
        # The watches deliver in milliseconds, but a loaded process may apply an event seconds
        # after the sweep's own list saw it (and made the row AVAILABLE).
        plan = Plan(now, redrive_seconds=redrive, observed_since=now - timedelta(seconds=SETTLE_SECONDS))
        if redrive is not None:
            plan.queue_idle = queue_idle
        for row in rows:
            name = k8s_name(row["tenant__site_id"], row["tenant__tenant_id"], row["pod_id"])
            kpod, service, warnings = self.mirror.observed(name, str(row["uid"]))
            plan.row(row, name, kpod, service_present=service, pod_warnings=warnings)
        if self.lease is not None and not self.lease.fenced():
            logger.warning("informer: lease lost before applying %d decisions; dropped", len(rows))
            self.stop.set()
            return 0
        plan.apply()
        self._defer(plan.deferred)
        self.applied += len(rows)
        self.passes += 1
        return len(rows)


def _valid_uuids(values) -> list:
    """The labels that are UUIDs (a hand-made object's label may be anything)."""
    valid = []
    for value in values:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return valid


def _due(now, redrive_seconds: float | None = None) -> Q:
    """Rows whose time came without anything happening in the cluster (indexed): the run clock
    expired, or a start or stop stalled past the re-drive delay (a lost task)."""
    stalled = now - timedelta(seconds=settings.PODS_REDRIVE_SECONDS if redrive_seconds is None else redrive_seconds)
    return (Q(status=S.AVAILABLE, time_to_stop_ts__lte=now)
            | Q(status__in=STARTING, status_changed_at__lt=stalled)
            | (needs_work() & ~Q(status_requested=RequestedStatus.ON) & Q(status_changed_at__lt=stalled)))


def run_informer(stop: threading.Event, lease: Lease | None, *, timeout_seconds: int = 300,
                 on_start=None) -> None:
    """One term: follow the cluster and apply changes until ``stop`` or the lease is lost."""
    informer = Informer(timeout_seconds=timeout_seconds, stop=threading.Event(), lease=lease)
    if on_start:
        on_start(informer)
    informer.start()
    interval = settings.PODS_SWEEP_SECONDS
    if lease is not None:
        # Renewed by a thread of its own: a long pass (the first one over 100,000 pods) must not
        # let the lease lapse. Losing it stops the term; the fenced check guards each apply.
        def keep():
            while not informer.stop.wait(lease.ttl / 3) and not stop.is_set():
                try:
                    renewed = lease.renew()
                except Exception as exc:  # noqa: BLE001 - Redis away: cannot prove we still lead
                    logger.warning("informer: lease renewal failed: %s", exc)
                    renewed = False
                if not renewed:
                    informer.stop.set()
                    return

        threading.Thread(target=keep, name="informer-lease", daemon=True).start()
    timer_at = resync_at = time.monotonic()
    try:
        while not stop.is_set() and not informer.stop.is_set():
            now = time.monotonic()
            if now - resync_at >= settings.PODS_RESYNC_SECONDS and informer.synced():
                resync_at = now
                informer.resync()
                continue
            if now - timer_at >= interval and informer.synced():
                timer_at = now
                with informer.wake:
                    batch, informer.dirty = informer.dirty, set()
                informer.plan(batch | informer.take_due(), timers=True)
                informer.still_healthy()
                continue
            informer.run_once(max(0.01, min(interval - (now - timer_at), 0.5)))
    finally:
        informer.stop.set()


def lead_forever(stop: threading.Event | None = None, *, timeout_seconds: int = 300, on_start=None) -> None:
    """Wait for the leader lease; while holding it, run the informer; on losing it, wait again."""
    stop = stop or threading.Event()
    lease = Lease(LEASE_NAME)
    waiting_logged = False
    while not stop.is_set():
        try:
            leader = lease.acquire()
        except Exception as exc:  # noqa: BLE001 - Redis away: nobody can be sure to lead
            logger.warning("informer: lease unavailable (%s); retrying", exc)
            stop.wait(1.0)
            continue
        if not leader:
            if not waiting_logged:
                holder = lease.current()
                logger.info("informer: standing by; the lease is held by %s", holder and holder["holder"])
                waiting_logged = True
            stop.wait(min(1.0, lease.ttl / 3))
            continue
        waiting_logged = False
        try:
            run_informer(stop, lease, timeout_seconds=timeout_seconds, on_start=on_start)
        except Exception:  # noqa: BLE001 - give the lease up and start a new term
            logger.exception("informer: term ended by an unexpected error")
            stop.wait(1.0)
        finally:
            lease.release()


__all__ = ["Informer", "Mirror", "lead_forever", "run_informer", "IN_FLIGHT"]
