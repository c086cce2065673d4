"""Pod status values, requested states and the allowed transitions, as data (permission levels:
:mod:`core.permissions`).

The status strings are wire values shared with upstream Tapis (note the space in
``SPAWNER SETUP``). Every status write goes through :mod:`pods.lifecycle`, which refuses a move
that :data:`TRANSITIONS` does not list: such a move is a programming error, not a race.
"""
from django.db import models


class PodStatus(models.TextChoices):
    REQUESTED = "REQUESTED"
    SPAWNER_SETUP = "SPAWNER SETUP"
    CREATING = "CREATING"
    AVAILABLE = "AVAILABLE"
    DELETING = "DELETING"
    STOPPED = "STOPPED"
    ERROR = "ERROR"
    COMPLETE = "COMPLETE"


class RequestedStatus(models.TextChoices):
    """What the user wants; the reconciler moves ``status`` toward it."""

    ON = "ON"
    OFF = "OFF"
    RESTART = "RESTART"


S = PodStatus

# from-status → the statuses it may move to. Who makes each move:
# - API: create (no prior row), STOPPED → REQUESTED (start_pod).
# - Worker (spawner/reconciler): everything else. A REQUESTED/SPAWNER SETUP/CREATING pod can be
#   re-driven back to REQUESTED when its Kubernetes objects never appeared (upstream's stuck-pod
#   bug), any live status may fall to ERROR/COMPLETE/STOPPED from what Kubernetes reports, and
#   every non-stopped status may be torn down through DELETING.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.STOPPED: frozenset({S.REQUESTED, S.DELETING, S.ERROR}),
    S.REQUESTED: frozenset({S.SPAWNER_SETUP, S.CREATING, S.AVAILABLE, S.DELETING, S.STOPPED, S.ERROR,
                            S.COMPLETE}),
    S.SPAWNER_SETUP: frozenset({S.REQUESTED, S.CREATING, S.AVAILABLE, S.DELETING, S.STOPPED, S.ERROR,
                                S.COMPLETE}),
    S.CREATING: frozenset({S.REQUESTED, S.AVAILABLE, S.DELETING, S.STOPPED, S.ERROR, S.COMPLETE}),
    # AVAILABLE -> REQUESTED: the Kubernetes pod vanished (node lost, deleted by hand); the
    # reconciler starts it again, where upstream left it STOPPED until someone noticed.
    S.AVAILABLE: frozenset({S.REQUESTED, S.CREATING, S.DELETING, S.STOPPED, S.ERROR, S.COMPLETE}),
    S.ERROR: frozenset({S.REQUESTED, S.CREATING, S.AVAILABLE, S.DELETING, S.STOPPED, S.COMPLETE}),
    S.COMPLETE: frozenset({S.REQUESTED, S.DELETING, S.STOPPED, S.ERROR}),
    S.DELETING: frozenset({S.STOPPED, S.ERROR}),
}

# Statuses in which nothing is (or should be) running and nothing is in flight.
AT_REST = frozenset({S.STOPPED, S.ERROR, S.COMPLETE})
# Statuses the reconciler's sweep must look at (everything that may still change on its own).
IN_FLIGHT = frozenset({S.REQUESTED, S.SPAWNER_SETUP, S.CREATING, S.AVAILABLE, S.DELETING})
# Statuses in which Kubernetes objects may exist for the pod.
MAY_HAVE_KUBE_OBJECTS = frozenset(set(S) - {S.STOPPED})


def can_transition(source: str, to: str) -> bool:
    """Whether ``source`` → ``to`` is allowed (filter a batch before ``apply_transitions``)."""
    return to in TRANSITIONS.get(source, ())


def sources_of(to: str) -> frozenset[str]:
    """Every status from which ``to`` may be reached."""
    return frozenset(src for src, targets in TRANSITIONS.items() if to in targets)


# Pod ids that would collide with a path segment routed (now or later) under /pods/, or with
# names upstream reserves. A pod with one of these ids would be unreachable.
RESERVED_POD_IDS = frozenset({
    "admin", "auth", "catalog", "catalogs", "derived", "docs", "gate", "healthcheck", "image",
    "images", "jupyter", "list", "metrics", "new", "nodes", "permissions", "pods", "search",
    "secret", "secrets", "snapshot", "snapshots", "stack", "stacks", "template", "templates",
    "traefikconfig", "usage", "volume", "volumes",
})

# Fields whose change only takes effect when the pod (re)starts.
RESTART_FIELDS = ("image", "command", "arguments", "environment_variables", "volume_mounts",
                  "networking", "resources", "compute_queue", "secret_map", "healthchecks")
