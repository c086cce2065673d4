"""Celery tasks. Names are stable wire identifiers: never rename one silently.

Tasks take ids, are idempotent, and only nudge: the sweep guarantees convergence when a task is
lost, runs twice or dies half way.
"""
import logging

import redis
from celery import shared_task
from django.conf import settings

from workers import quiet
from workers.kube.errors import KubeError, TransientKubeError

logger = logging.getLogger(__name__)


@shared_task(name="workers.ping", ignore_result=False)  # its caller reads the reply
def ping(token):
    """Echo ``token`` back: lets operators and tests prove a worker consumes from the broker."""
    return {"pong": token}


@shared_task(name="workers.reconcile_pod", autoretry_for=(TransientKubeError,), retry_backoff=1,
             retry_backoff_max=30, retry_jitter=True, max_retries=5)
def reconcile_pod(pod_pk: int) -> str:
    """Bring one pod toward its desired state now (spawn, adopt or tear down)."""
    from workers.spawner import reconcile_pod as run

    outcome = run(pod_pk)
    # A pod re-driven pass after pass ends the same way each time: say it once per change.
    logger.log(logging.INFO if quiet.changed(("reconcile", pod_pk), outcome) else logging.DEBUG,
               "reconcile_pod %s: %s", pod_pk, outcome)
    return outcome


@shared_task(name="workers.remove_pod_objects", autoretry_for=(TransientKubeError,), retry_backoff=1,
             retry_backoff_max=30, retry_jitter=True, max_retries=5)
def remove_pod_objects(name: str, pod_uid: str) -> int:
    """Delete the Kubernetes objects of a pod whose row was just deleted (idempotent)."""
    from workers.spawner import remove_objects

    return remove_objects(name, pod_uid)


def _singleton(name: str, ttl: float):
    """A non-blocking Redis lock so two beats (or a slow run) never overlap."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    return client.lock(f"{settings.PODS_REDIS_PREFIX}:lock:{name}", timeout=ttl, blocking=False)


def _claim_interval(name: str, seconds: float) -> bool:
    """True for the first caller in each ``seconds``-long interval, across every process.

    Two beats (a mistaken second one, or two replicas during a rolling update) each send the
    sweep every interval; the lock below only stops *overlapping* runs, and sweeps are short, so
    both ran. The first run of an interval claims it (``SET NX`` expiring after 80 % of the
    interval, so a single beat's next run, slightly early or late, always finds it free).
    """
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    return bool(client.set(f"{settings.PODS_REDIS_PREFIX}:interval:{name}", "1", nx=True,
                           px=max(1, int(seconds * 800))))


@shared_task(name="workers.sweep", ignore_result=True)
def sweep() -> dict | None:
    """The periodic reconcile sweep (see workers.sweep): at most one per interval."""
    from workers.sweep import sweep as run

    # The interval is the beat's schedule for it (PODS_RESYNC_SECONDS), not the watcher's timer
    # pass (PODS_SWEEP_SECONDS, 5 s): claimed for 4 s of a 300 s schedule, a second beat started
    # more than 4 s after the first ran a second full resync every interval.
    if not _claim_interval("sweep", settings.PODS_RESYNC_SECONDS):
        logger.info("sweep: this interval already had its sweep (a second beat, or a late one); skipping")
        return None
    lock = _singleton("sweep", ttl=max(30.0, settings.PODS_SWEEP_SECONDS * 6))
    if not lock.acquire():
        logger.debug("sweep: another sweep is running; skipping")
        return None
    try:
        report = run()
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("sweep: lock expired before the sweep finished")
    busy = report.transitions or report.container_updates or report.orphans_deleted
    # An unreachable cluster is logged by the sweep when the state changes; re-drives alone are
    # not news (a failing pod is re-driven every pass).
    logger.log(logging.INFO if busy else logging.DEBUG, "sweep: %s", report)
    return report.__dict__


@shared_task(name="workers.collect_logs", ignore_result=True)
def collect_logs() -> dict | None:
    """Incremental log collection for running pods (see workers.logs)."""
    from workers.logs import collect_logs as run

    if not _claim_interval("collect_logs", settings.PODS_LOG_COLLECT_SECONDS):
        return None
    lock = _singleton("collect_logs", ttl=max(60.0, settings.PODS_LOG_COLLECT_SECONDS * 6))
    if not lock.acquire():
        return None
    try:
        return run()
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("collect_logs: lock expired before the pass finished")


@shared_task(name="workers.collect_pod_logs", ignore_result=True)
def collect_pod_logs(pod_pk: int) -> int:
    """Collect one pod's logs now (sent when it turns AVAILABLE, so its first lines are readable
    within about a second instead of at the next periodic pass). Returns the bytes added."""
    from core.prepared import one_or_none
    from pods.choices import PodStatus
    from pods.models import Pod
    from workers import logs

    pod = one_or_none(Pod.objects.select_related("tenant").filter(pk=pod_pk, status=PodStatus.AVAILABLE))
    if pod is None:
        return 0
    try:
        return logs.collect_pod(pod)
    except KubeError as exc:
        logger.info("first log collection of pod %s failed (the periodic pass retries): %s", pod_pk, exc)
        return 0


@shared_task(name="workers.ensure_storage", bind=True, autoretry_for=(TransientKubeError,), retry_backoff=1,
             retry_backoff_max=30, retry_jitter=True, max_retries=5)
def ensure_storage(self, tenant_pk: int) -> str:
    """Start the tenant's storage server and bring it up to date; re-run every second while it
    starts (bounded: the next use or spawn wakes it again)."""
    from workers.storage_server import ensure_storage as run

    outcome = run(tenant_pk)
    if outcome == "starting" and self.request.retries < settings.PODS_STORAGE_START_CHECKS:
        raise self.retry(countdown=1, max_retries=settings.PODS_STORAGE_START_CHECKS)
    return outcome


@shared_task(name="workers.reap_idle_storage", ignore_result=True)
def reap_idle_storage() -> list | None:
    """Delete idle tenants' storage server Pods (claims and data stay)."""
    from workers.storage_server import reap_idle_storage as run

    lock = _singleton("reap_idle_storage", ttl=settings.PODS_STORAGE_REAP_SECONDS)
    if not lock.acquire():
        return None
    try:
        return run()
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass


@shared_task(name="workers.vacuum", ignore_result=True)
def vacuum() -> list:
    """VACUUM the service's tables that filled with dead rows (workers/maintenance.py)."""
    from workers.maintenance import vacuum_if_needed

    return vacuum_if_needed()


@shared_task(name="workers.remove_pod_claims", autoretry_for=(TransientKubeError,), retry_backoff=1,
             retry_backoff_max=30, retry_jitter=True, max_retries=5)
def remove_pod_claims(names: list, pod_uid: str) -> int:
    """Delete the pod-private claims (``pvc`` mounts) of a deleted pod row (idempotent)."""
    from workers.storage_server import remove_pod_claims as run

    return run(names, pod_uid)
