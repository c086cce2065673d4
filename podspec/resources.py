"""A pod's compute resources: defaults, bounds and the merge of partial updates.

:data:`RESOURCE_DEFAULTS` is the one source of the defaults: the API fills them in, the worker
and the manifest builders fall back on them.
"""
from django.conf import settings

from core.errors import InvalidInput

RESOURCE_DEFAULTS = {"cpu_request": 250, "cpu_limit": 2000, "mem_request": 256, "mem_limit": 3072,
                     "gpus": 0}


def resource_defaults() -> dict:
    """Defaults clamped into the configured bounds (a site may raise the minimums)."""
    cpu = lambda v: min(max(v, settings.PODS_CPU_MIN), settings.PODS_CPU_MAX)  # noqa: E731
    mem = lambda v: min(max(v, settings.PODS_MEM_MIN), settings.PODS_MEM_MAX)  # noqa: E731
    d = RESOURCE_DEFAULTS
    return {"cpu_request": cpu(d["cpu_request"]), "cpu_limit": cpu(d["cpu_limit"]),
            "mem_request": mem(d["mem_request"]), "mem_limit": mem(d["mem_limit"]), "gpus": 0}


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
    if errors:
        raise InvalidInput({"resources": errors})
    return merged


def check_compute_queue(queue: str) -> None:
    if queue not in settings.PODS_COMPUTE_QUEUES:
        raise InvalidInput({"compute_queue": [
            f"Unknown compute queue {queue!r}; available: {', '.join(settings.PODS_COMPUTE_QUEUES)}."]})
