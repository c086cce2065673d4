"""The cluster watcher (``manage.py watch_cluster``): the informer under a leader lease.

A thin entry point over workers.informer (list + watch per kind, mirror, Plan per change) and
workers.lease (exactly one process acts; another waits and takes over within
``PODS_LEADER_LEASE_SECONDS``). The beat sweep stays the safety net (``PODS_RESYNC_SECONDS``):
everything converges with no watcher running, only more slowly.
"""
import threading

from workers.informer import lead_forever


def watch_forever(stop: threading.Event | None = None, *, timeout_seconds: int = 300, on_start=None) -> None:
    """Run until ``stop``: stand by for the lease, and while holding it follow the cluster.

    ``timeout_seconds`` bounds each watch request (the server ends it; the watch resumes from
    the last resourceVersion seen). ``on_start(informer)`` is called at the start of each term.
    """
    lead_forever(stop, timeout_seconds=timeout_seconds, on_start=on_start)
