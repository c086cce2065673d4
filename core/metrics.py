"""The service's Prometheus metrics: one place that defines them, every process records them.

Events (a pod reaching AVAILABLE, a failure, a sweep, a Kubernetes request, a Celery task, an
HTTP request) are counted where they happen: in web, worker, beat or watcher. With
``PROMETHEUS_MULTIPROC_DIR`` set (``make run`` sets it, one directory for all its processes),
prometheus-client writes every process's values to files there and the web's ``/metrics``
aggregates them, so worker and beat metrics reach the scrape. Without it each process keeps its
own registry (fine for one-process tests and tools).

State (pods by tenant and status, queue depth) is not recorded by anyone: ``/metrics`` reads it
at scrape time (``workers.metrics_view``), so it is always exact and never stale.

Label values are bounded: tenants, statuses, failure reasons (Kubernetes' short reasons),
Kubernetes verbs and codes, task names, URL routes (never raw paths).
"""
from prometheus_client import Counter, Histogram

NAMESPACE = "pods"

SPAWN_SECONDS = Histogram(
    "spawn_seconds", "Time from a start request (create, start, restart) to the pod's first AVAILABLE.",
    namespace=NAMESPACE, buckets=(0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600))
FAILURES = Counter(
    "failures", "Pods that turned ERROR, by reason (ErrImagePull, CrashLoopBackOff, OOMKilled, Unschedulable...).",
    ["reason"], namespace=NAMESPACE)
TRANSITIONS = Counter("status_transitions", "Status transitions written, by target status.", ["status"],
                      namespace=NAMESPACE)
SWEEP_SECONDS = Histogram(
    "sweep_seconds", "Duration of a full reconcile pass (kind: sweep; the watcher's resync may add its own).",
    ["kind"], namespace=NAMESPACE, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 15, 30, 60))
SWEEP_LAST = Counter("sweeps", "Reconcile passes run, by kind and outcome (ok, cluster_unreachable).",
                     ["kind", "outcome"], namespace=NAMESPACE)
KUBE_REQUESTS = Counter(
    "kube_requests", "Kubernetes API requests sent (retries included), by verb, resource and HTTP code.",
    ["verb", "resource", "code"], namespace=NAMESPACE)
CELERY_TASKS = Counter("celery_tasks", "Celery tasks finished, by task name and outcome.",
                       ["task", "outcome"], namespace=NAMESPACE)
HTTP_SECONDS = Histogram(
    "http_request_seconds", "Server time of HTTP requests, by method, URL route and status code.",
    ["method", "route", "code"], namespace=NAMESPACE,
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


def record_transition(to: str, container: dict | None) -> None:
    """A status transition was written (called by pods.lifecycle for every winner)."""
    TRANSITIONS.labels(to).inc()
    if to == "ERROR":
        FAILURES.labels(failure_reason(container)).inc()


def failure_reason(container: dict | None) -> str:
    """The short reason of a failure, as Kubernetes names it, for a bounded label."""
    reason = (container or {}).get("reason") or "Error"
    return str(reason)[:40]
