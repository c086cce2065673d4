"""Incremental container-log collection, one stored run per pod instance.

Each pass asks Kubernetes only for what is new (``sinceTime`` = the last line's timestamp,
``limitBytes`` bounded), appends it to the run's text and drops the oldest lines beyond
``PODS_LOG_MAX_BYTES``. A restart is a new instance, hence a new run: the previous run's logs
stay readable.
"""
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from pods.choices import PodStatus
from pods.models import Pod, PodLogRun
from workers import quiet
from workers.kube import api as kube
from workers.breaker import log_breaker
from workers.kube.errors import KubeError, TransientKubeError

logger = logging.getLogger(__name__)
# Pods that ended recently still get one more pass, so a crash's last words are kept.
FINAL_PASS_WINDOW = timedelta(minutes=5)


def _split_timestamp(line: str) -> tuple[datetime | None, str]:
    stamp, _, text = line.partition(" ")
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")), text
    except ValueError:
        return None, line


def cap(text: str, limit: int) -> tuple[str, bool]:
    """Keep the newest whole lines within ``limit`` bytes; True when something was dropped."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, False
    start = len(data) - limit
    cut = data[start:]
    if data[start - 1:start] != b"\n":  # the cut fell inside a line: drop that partial line
        newline = cut.find(b"\n")
        cut = cut[newline + 1:] if newline != -1 else cut
    return cut.decode("utf-8", errors="ignore"), True


def collect_pod(pod: Pod) -> int:
    """Fetch what is new for the pod's current run; returns the bytes added."""
    if not pod.instance_id:
        return 0
    run, _ = PodLogRun.objects.get_or_create(pod=pod, instance_id=pod.instance_id)
    since = run.collected_until.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if run.collected_until else None
    raw = kube.read_log(pod.k8_name, since_time=since, limit_bytes=settings.PODS_LOG_FETCH_BYTES, timestamps=True)
    new_lines, last = [], run.collected_until
    for line in raw.splitlines():
        stamp, text = _split_timestamp(line)
        # sinceTime is inclusive; lines at or before the last one we kept are repeats.
        if stamp is not None and run.collected_until is not None and stamp <= run.collected_until:
            continue
        new_lines.append(text)
        last = stamp or last
    if not new_lines:
        return 0
    added = "\n".join(new_lines) + "\n"
    text, dropped = cap(run.text + added, settings.PODS_LOG_MAX_BYTES)
    PodLogRun.objects.filter(pk=run.pk).update(
        text=text, bytes=run.bytes + len(added.encode()), truncated=run.truncated or dropped,
        collected_until=last, updated_at=timezone.now())
    return len(added)


def collect_logs(limit: int | None = None) -> dict:
    """One bounded pass over running (and just-ended) pods, least recently visited first.

    A pod's current run records when it was last visited (``updated_at``, touched for every
    visited run in one UPDATE, new lines or not), so with more pods than a pass takes, every pod
    gets its turn; pods never visited come first.
    """
    now = timezone.now()
    recent = Q(status__in=(PodStatus.ERROR, PodStatus.COMPLETE), status_changed_at__gte=now - FINAL_PASS_WINDOW)
    last_visit = PodLogRun.objects.filter(pod=OuterRef("pk"), instance_id=OuterRef("instance_id")).values("updated_at")
    pods = (Pod.objects.filter(Q(status=PodStatus.AVAILABLE) | recent, instance_id__isnull=False)
            .select_related("tenant").annotate(last_visit=Subquery(last_visit[:1]))
            .order_by(F("last_visit").asc(nulls_first=True), "pk")[: limit or settings.PODS_LOG_PODS_PER_PASS])
    breaker = log_breaker()
    if breaker.is_open():
        return {"pods": 0, "bytes": 0, "failed": 0, "skipped": "the Kubernetes API failed recently (circuit open)"}
    visited, added, failed, broke = [], 0, 0, False
    for pod in pods:
        try:
            added += collect_pod(pod)
            visited.append(pod.pk)
            quiet.forget(("logs", pod.pk))
        except TransientKubeError as exc:
            # The API itself is failing (unreachable, 5xx, throttling), not this pod: stop the
            # pass instead of trying every pod against it, and pause the next ones (backoff).
            failed += 1
            breaker.failure(str(exc))
            broke = True
            break
        except KubeError as exc:
            failed += 1
            # Once per change of error, not on every pass over a pod that keeps failing.
            level = logging.INFO if quiet.changed(("logs", pod.pk), str(exc)) else logging.DEBUG
            logger.log(level, "log collection for pod %s failed: %s", pod.pk, exc)
        except IntegrityError:
            logger.info("log collection for pod %s skipped: the pod was deleted meanwhile", pod.pk)
    if visited:
        PodLogRun.objects.filter(pod_id__in=visited, pod__instance_id=F("instance_id")).update(updated_at=now)
        if not broke:
            breaker.success()
    return {"pods": len(visited), "bytes": added, "failed": failed, **({"stopped": "circuit opened"} if broke else {})}
