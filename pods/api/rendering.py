"""Wire rendering of pods, as upstream's ``display()`` and tapipy's ``PodResponseModel``.

Only the fields of ``PodResponseModel`` appear (no tenant, k8_name, permissions, logs, action
logs, credentials, health). Datetimes are naive UTC ISO-8601 without ``Z``, as upstream sends.
"""
from datetime import UTC, datetime

from pods.models import Pod

# Columns the rendering reads: lists load only these.
DISPLAY_COLUMNS = (
    "id", "tenant_id", "pod_id", "image", "template", "description", "command", "arguments",
    "environment_variables", "status_requested", "volume_mounts", "time_to_stop_default",
    "time_to_stop_instance", "time_to_stop_ts", "networking", "resources", "compute_queue",
    "status", "status_container", "creation_ts", "update_ts", "start_instance_ts",
)


def wire_datetime(value: datetime | None) -> str | None:
    """``2025-05-15T00:28:39.897690``: UTC, naive, no ``Z``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def _redact_mounts(mounts: dict) -> dict:
    """``config_content`` may hold secrets; it is not echoed (upstream redacts it too)."""
    out = {}
    for path, mount in (mounts or {}).items():
        if isinstance(mount, dict) and mount.get("config_content"):
            mount = {**mount, "config_content": "<redacted>"}
        out[path] = mount
    return out


def render_pod(pod: Pod) -> dict:
    return {
        "pod_id": pod.pod_id,
        "image": pod.image,
        "template": pod.template,
        "description": pod.description,
        "command": pod.command,
        "arguments": pod.arguments,
        "environment_variables": pod.environment_variables,
        "status_requested": pod.status_requested,
        "volume_mounts": _redact_mounts(pod.volume_mounts),
        "time_to_stop_default": pod.time_to_stop_default,
        "time_to_stop_instance": pod.time_to_stop_instance,
        "time_to_stop_ts": wire_datetime(pod.time_to_stop_ts),
        "networking": pod.networking,
        "resources": pod.resources,
        "compute_queue": pod.compute_queue,
        "status": pod.status,
        "status_container": pod.status_container,
        "creation_ts": wire_datetime(pod.creation_ts),
        "update_ts": wire_datetime(pod.update_ts),
        "start_instance_ts": wire_datetime(pod.start_instance_ts),
    }


def render_action_logs(events) -> list[str]:
    """Upstream's action log lines; a line identical to the previous one is skipped, as upstream."""
    lines = []
    for event in events:
        line = event.as_action_log()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def render_log_run(run) -> dict:
    summary = run.summary()
    for key in ("started_at", "updated_at", "collected_until"):
        summary[key] = wire_datetime(summary[key])
    return summary
