"""Test controls shared by the ``/_kubesim/`` HTTP API and the Python handle.

Every function runs on the cluster's event-loop thread and returns JSON-able
data.
"""

from __future__ import annotations

from . import netpol
from .clock import format_time_nano
from .faults import Fault
from .scenarios import SCENARIOS, Rule, lookup


def clock_info(cluster) -> dict:
    """Current virtual time and clock settings."""
    clock = cluster.clock
    return {"now": format_time_nano(clock.now()), "epoch": clock.now(), "mode": clock.mode,
            "speed": clock.speed, "pending_timers": clock.pending()}


def advance(cluster, seconds: float) -> dict:
    """Move the virtual clock forward, firing due timers in order."""
    cluster.clock.advance(seconds)
    return clock_info(cluster)


def settle(cluster, max_seconds: float = 300.0) -> dict:
    """Advance timer by timer until none is pending or ``max_seconds`` have passed.

    Crash loops never settle; they stop at ``max_seconds``.
    """
    clock = cluster.clock
    limit = clock.now() + max_seconds
    while True:
        due = clock.next_due()
        if due is None or due > limit:
            break
        clock.advance(max(0.0, due - clock.now()))
    return clock_info(cluster)


def reset(cluster) -> dict:
    """Fresh cluster state (see :meth:`Cluster.reset`)."""
    cluster.reset()
    return {"ok": True, "resourceVersion": str(cluster.store.rv)}


def scenarios(cluster) -> dict:
    """Known scenarios and active rules."""
    return {"scenarios": {name: {"start_seconds": s.start_seconds, "run_seconds": s.run_seconds,
                                 "exit_code": s.exit_code, "oom": s.oom,
                                 "pull_error": s.pull_error, "unschedulable": s.unschedulable}
                          for name, s in SCENARIOS.items()},
            "rules": [vars(r) for r in cluster.scenario_rules]}


def set_scenario(cluster, scenario: str, image: str | None = None, namespace: str | None = None,
                 pod: str | None = None) -> dict:
    """Add a rule choosing ``scenario`` for pods created from now on."""
    lookup(scenario)
    cluster.scenario_rules.append(Rule(scenario, image, namespace, pod))
    return scenarios(cluster)


def clear_scenarios(cluster) -> dict:
    """Remove every scenario rule."""
    cluster.scenario_rules.clear()
    return scenarios(cluster)


def inject_fault(cluster, **spec) -> dict:
    """Add a fault rule (fields of :class:`~kubesim.faults.Fault`)."""
    spec.pop("id", None)
    spec.pop("hits", None)
    return cluster.faults.add(Fault(**spec)).to_dict()


def list_faults(cluster) -> dict:
    """Active fault rules."""
    return {"faults": [f.to_dict() for f in cluster.faults.rules]}


def remove_fault(cluster, fault_id: int) -> dict:
    """Remove one fault rule."""
    return {"removed": cluster.faults.remove(fault_id)}


def clear_faults(cluster) -> dict:
    """Remove every fault rule."""
    cluster.faults.clear()
    return {"faults": []}


def journal(cluster, since: int = 0) -> dict:
    """Journal entries newer than ``since``."""
    return {"entries": cluster.journal.list(since)}


def clear_journal(cluster) -> dict:
    """Forget the journal."""
    cluster.journal.clear()
    return {"entries": []}


def set_logs(cluster, namespace: str, pod: str, text: str, container: str | None = None,
             previous: bool = False) -> dict:
    """Replace the log content of a pod's container (current or previous instance)."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    cluster.log_overrides[(namespace, pod, container, bool(previous))] = \
        (cluster.clock.now(), text)
    cluster.notify()
    return {"ok": True}


def reachable(cluster, source: str, target: str, port: int | None = None,
              protocol: str = "TCP") -> dict:
    """NetworkPolicy verdict for a connection (see :mod:`kubesim.netpol`)."""
    if not source or not target:
        raise ValueError("from and to are required (namespace/pod or an IP address)")
    return netpol.reachable(cluster, source, target, port, protocol)


BULK_MAX = 10_000


def bulk_create(cluster, resource: str = "", namespace: str = "", items: list | None = None) -> dict:
    """Create many objects of one resource (plural, e.g. ``pods``) in one call, each through the
    same path as a POST (validation, defaults, admission, events, watches): a large cluster is
    built in seconds instead of one HTTP request per object. At most ``BULK_MAX`` per call;
    errors are reported per item (``{"index", "code", "message"}``), the rest still created."""
    from . import api
    from .errors import ApiError
    from .resources import RESOURCES

    if resource not in RESOURCES:
        raise ValueError(f"unknown resource {resource!r}")
    if not isinstance(items, list) or len(items) > BULK_MAX:
        raise ValueError(f"items must be a list of at most {BULK_MAX} objects")
    res = RESOURCES[resource]
    created, failed = 0, []
    for index, body in enumerate(items):
        try:
            api.create(cluster, res, namespace if res.namespaced else "", body)
            created += 1
        except ApiError as exc:
            failed.append({"index": index, "code": exc.code, "message": exc.message})
    return {"created": created, "errors": failed[:100], "error_count": len(failed)}
