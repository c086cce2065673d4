"""A pod's compute resources: defaults, bounds and the merge of partial updates.

:data:`RESOURCE_DEFAULTS` is the one source of the defaults: the API fills them in, the worker
and the manifest builders fall back on them.
"""
from django.conf import settings

from core.errors import InvalidInput

RESOURCE_DEFAULTS = {"cpu_request": 250, "cpu_limit": 2000, "mem_request": 256, "mem_limit": 3072,
                     "gpus": 0, "ephemeral_storage_request": -1, "ephemeral_storage_limit": -1}
# -1: no ephemeral storage request/limit (Kubernetes' default: the node's disk, unbounded).
UNLIMITED = -1
EPHEMERAL_KEYS = ("ephemeral_storage_request", "ephemeral_storage_limit")


def resource_defaults() -> dict:
    """Defaults clamped into the configured bounds (a site may raise the minimums)."""
    cpu = lambda v: min(max(v, settings.PODS_CPU_MIN), settings.PODS_CPU_MAX)  # noqa: E731
    mem = lambda v: min(max(v, settings.PODS_MEM_MIN), settings.PODS_MEM_MAX)  # noqa: E731
    d = RESOURCE_DEFAULTS
    return {"cpu_request": cpu(d["cpu_request"]), "cpu_limit": cpu(d["cpu_limit"]),
            "mem_request": mem(d["mem_request"]), "mem_limit": mem(d["mem_limit"]), "gpus": 0,
            "ephemeral_storage_request": settings.PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT,
            "ephemeral_storage_limit": settings.PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT}


def unlimited_ephemeral_allowed() -> bool:
    """-1 (unlimited) ephemeral storage may be asked for only while a default is -1 (upstream)."""
    return UNLIMITED in (settings.PODS_EPHEMERAL_STORAGE_REQUEST_DEFAULT, settings.PODS_EPHEMERAL_STORAGE_LIMIT_DEFAULT)


def check_ephemeral_storage(value: int) -> str | None:
    """The problem with an ephemeral storage request or limit (MiB), in upstream's words; None if fine."""
    low, high = settings.PODS_EPHEMERAL_STORAGE_MIN, settings.PODS_EPHEMERAL_STORAGE_MAX
    if value == UNLIMITED:
        if unlimited_ephemeral_allowed():
            return None
        return ("resources.ephemeral_storage_x: -1 (unlimited) is not allowed: this site's default ephemeral "
                f"storage is bounded. Use values between {low} and {high}.")
    if not low <= value <= high:
        return (f"resources.ephemeral_storage_x out of bounds. Received: {value}. Maximum: {high}. "
                f"Minimum: {low}. Ask an admin to go beyond these bounds.")
    return None


def normalise_resources(given: dict | None, base: dict | None = None) -> dict:
    """``given`` on top of ``base`` (the pod's current resources, or the defaults).

    Keys not sent keep their current value, so ``{"cpu_limit": 4000}`` changes only that.
    Requests must not exceed limits.
    """
    merged = {**resource_defaults(), **(base or {}), **(given or {})}
    errors = {}
    for kind in ("cpu", "mem"):
        if merged[f"{kind}_request"] > merged[f"{kind}_limit"]:
            errors[f"{kind}_request"] = [
                f"{kind}_request ({merged[f'{kind}_request']}) must not exceed "
                f"{kind}_limit ({merged[f'{kind}_limit']})."]
    request, limit = (merged[key] for key in EPHEMERAL_KEYS)
    if UNLIMITED not in (request, limit) and request > limit:
        errors["ephemeral_storage_request"] = [
            f"ephemeral_storage_request ({request}) must not exceed ephemeral_storage_limit ({limit}); "
            "use -1 for unlimited."]
    if errors:
        raise InvalidInput({"resources": errors})
    return merged


def check_compute_queue(queue: str) -> None:
    if queue not in settings.PODS_COMPUTE_QUEUES:
        raise InvalidInput({"compute_queue": [
            f"Unknown compute queue {queue!r}; available: {', '.join(settings.PODS_COMPUTE_QUEUES)}."]})
