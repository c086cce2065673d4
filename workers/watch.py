"""The fast path: a watch on the managed Pods applies each change within about a second.

Edge-triggered, and only an optimisation: the sweep stays the source of truth, so an event
missed while the watch reconnects only waits for the next sweep. It handles pods that should be
running (status observations: AVAILABLE, ERROR, COMPLETE, a vanished Pod); stopping and
orphans stay with the tasks and the sweep. Several watchers are harmless: every write is CAS.
"""
import logging
import threading
import uuid

from django.db import close_old_connections
from django.utils import timezone

from pods.choices import IN_FLIGHT, RequestedStatus
from pods.models import Pod, k8s_name
from workers.kube import api as kube
from workers.kube.errors import KubeError
from workers.kube.manifests import LABEL_INSTANCE, LABEL_POD_UID
from workers.sweep import ROW_FIELDS, Plan

logger = logging.getLogger(__name__)


def apply_event(event_type: str, kpod: dict) -> bool:
    """Apply one watch event to the pod it is about; True when the pod's row was looked at."""
    uid = ((kpod.get("metadata") or {}).get("labels") or {}).get(LABEL_POD_UID)
    try:
        uid = uuid.UUID(uid or "")
    except ValueError:
        return False
    row = (Pod.objects.filter(uid=uid, status__in=IN_FLIGHT, status_requested=RequestedStatus.ON)
           .values(*ROW_FIELDS, "tenant__site_id", "tenant__tenant_id").first())
    if row is None:
        return False
    # Events about another run's object (the previous instance still terminating while the new
    # one runs, arriving late) say nothing about this run: acting on them would restart it.
    instance = ((kpod.get("metadata") or {}).get("labels") or {}).get(LABEL_INSTANCE)
    if instance != (str(row["instance_id"]) if row["instance_id"] else None):
        return False
    name = k8s_name(row["tenant__site_id"], row["tenant__tenant_id"], row["pod_id"])
    plan = Plan(timezone.now())
    plan.row(row, name, None if event_type == "DELETED" else kpod, service_present=True, pod_warnings=None)
    plan.apply()
    return True


def watch_forever(stop: threading.Event | None = None, *, timeout_seconds: int = 300) -> None:
    """Follow changes from a list's resourceVersion, resuming from the last one seen (bookmarks
    included) when the server ends a watch; list again only when told it is too old (410)."""
    stop = stop or threading.Event()
    backoff, version = 1.0, None
    while not stop.is_set():
        try:
            if version is None:
                version = kube.list_managed("pod")["metadata"]["resourceVersion"]
            for event_type, obj in kube.watch_managed_pods(version, timeout_seconds=timeout_seconds):
                if stop.is_set():
                    return
                backoff = 1.0
                version = (obj.get("metadata") or {}).get("resourceVersion") or version
                if event_type in ("ADDED", "MODIFIED", "DELETED"):
                    close_old_connections()
                    apply_event(event_type, obj)
        except KubeError as exc:
            if exc.status == 410:
                logger.info("watch: resourceVersion %s expired; listing again", version)
                version = None
                continue
            logger.warning("watch: %s; retrying in %.0f s", exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
        except Exception:  # noqa: BLE001 - a watcher must outlive any one bad event
            logger.exception("watch: unexpected error; restarting in %.0f s", backoff)
            version = None
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
