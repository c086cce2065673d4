"""Wire rendering of pods, as upstream's ``display()`` and tapipy's ``PodResponseModel``.

Only the fields of ``PodResponseModel`` appear (no tenant, k8_name, permissions, logs, action
logs, credentials, health). Datetimes are naive UTC ISO-8601 without ``Z``, as upstream sends.
"""
import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, F, Func, TextField

from core.datetimes import wire_datetime
from pods.models import Pod
from podspec.secret_map import redacted as redacted_secret_map

# Columns the rendering reads, in the wire order.
DISPLAY_COLUMNS = (
    "pod_id", "image", "template", "pod_template", "description", "command", "arguments",
    "environment_variables", "status_requested", "volume_mounts", "time_to_stop_default",
    "time_to_stop_instance", "time_to_stop_ts", "networking", "resources", "compute_queue",
    "status", "status_container", "creation_ts", "update_ts", "start_instance_ts",
    "secret_map", "healthchecks",
)


def _wire_json_sql(column) -> str:
    """``render_pod``'s object, key for key in its order, as a Postgres expression of JSON text,
    ``column(name)`` giving the SQL of each of the pod's columns.

    Plain string concatenation (``json_build_object`` costs twice as much): strings through
    ``to_json``, the JSON columns as their own text, datetimes as ``wire_datetime`` writes them
    (``isoformat()`` of the naive UTC value: a ``T``, six digits of microseconds, or none at all
    when zero; Postgres drops trailing zeros, so they are padded back).
    """
    parts = []
    for name in DISPLAY_COLUMNS:
        col = column(name)
        kind = Pod._meta.get_field(name).get_internal_type()
        if kind == "DateTimeField":
            text = f"replace(({col} AT TIME ZONE 'UTC')::text, ' ', 'T')"
            value = f"'\"' || CASE WHEN length({text}) = 19 THEN {text} ELSE rpad({text}, 26, '0') END || '\"'"
        elif kind in ("CharField", "TextField"):
            value = f"to_json({col})::text"
        else:  # JSON and integer columns: their text is their JSON
            value = f"({col})::text"
        parts.append(f"'{',' if parts else '{'}\"{name}\":' || COALESCE({value}, 'null')")
        if name == "networking":  # render_pod's "url" follows it: see pod_url
            default = f"({col} -> 'default')"
            first = f"(SELECT e.value FROM jsonb_each({col}) e LIMIT 1)"
            parts.append(
                f"',\"url\":' || to_json(COALESCE(CASE WHEN jsonb_typeof({default}) = 'object' "
                f"AND {default} <> '{{}}'::jsonb THEN {default} ->> 'url' "
                f"ELSE CASE WHEN jsonb_typeof({first}) = 'object' THEN {first} ->> 'url' END END, ''))::text")
    # render_pod's last key: the proxy routes AVAILABLE pods only.
    parts.append(f"',\"networking_live\":' || COALESCE(({column('status')} = 'AVAILABLE')::text, 'false')")
    return f"({' || '.join(parts)} || '}}')"


# The wire JSON of every pod is kept in pods_pod.wire (migration 0012, a column the ORM never
# loads) by a trigger written from _wire_json_sql at each migrate (pods.apps): the 1,000-pod list
# read it instead of building it (Postgres spent about 23 of the list's 35-42 ms on that), and
# every writer (API, worker, watcher, admin, SQL) keeps it current, as with the usage counters.
WIRE_FUNCTION = "pods_pod_wire"


def _wire_function_body() -> str:
    return f"BEGIN NEW.wire := {_wire_json_sql(lambda name: f'NEW.{Pod._meta.get_field(name).column}')}; RETURN NEW; END"


def install_wire_trigger(connection) -> bool:
    """(Re)write the trigger function from the code; when it changed, recompute every pod's
    ``wire`` (the trigger does it on the UPDATE). True if it changed."""
    body = _wire_function_body()
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [WIRE_FUNCTION])
        row = cursor.fetchone()
        if row and row[0].strip() == body:
            return False
        cursor.execute(f"CREATE OR REPLACE FUNCTION {WIRE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
                       f"AS $wire$ {body} $wire$")
        cursor.execute(f"DROP TRIGGER IF EXISTS {WIRE_FUNCTION} ON pods_pod")
        cursor.execute(f"CREATE TRIGGER {WIRE_FUNCTION} BEFORE INSERT OR UPDATE ON pods_pod "
                       f"FOR EACH ROW EXECUTE FUNCTION {WIRE_FUNCTION}()")
        cursor.execute("UPDATE pods_pod SET wire = NULL")
    return True


class _WirePodJSON(Func):
    """The pod's wire JSON text: the stored ``wire`` column, or (a row the trigger has not
    written, which should not exist) the same JSON built on the spot (:func:`_wire_json_sql`)."""

    output_field = TextField()

    def __init__(self):
        super().__init__(*[F(name) for name in DISPLAY_COLUMNS])

    def as_sql(self, compiler, connection, **extra_context):
        columns, params = {}, []
        for name, expression in zip(DISPLAY_COLUMNS, self.get_source_expressions()):
            columns[name], column_params = compiler.compile(expression)
            params.extend(column_params)
        built = _wire_json_sql(columns.__getitem__)
        table = columns["pod_id"].rsplit(".", 1)[0]  # the alias the query gives pods_pod
        return f"COALESCE({table}.wire, {built})", params


class _NeedsRedaction(Func):
    """Whether ``render_pod`` changes the pod's text: a non-empty ``secret_map`` (its literals are
    never echoed) or a mount with a ``config_content`` (redacted). Decided by Postgres beside the
    JSON it writes, so the rows that need nothing are never scanned in Python."""

    output_field = BooleanField()
    template = ("(COALESCE(%(expressions)s, '{}'::jsonb) NOT IN ('{}'::jsonb, 'null'::jsonb) "
                "OR jsonb_path_exists(COALESCE(%(mounts)s, '{}'::jsonb), '$.*.config_content'))")

    def __init__(self):
        super().__init__(F("secret_map"), F("volume_mounts"))

    def as_sql(self, compiler, connection, **extra_context):
        (secret_map, secret_params), (mounts, mount_params) = (
            compiler.compile(e) for e in self.get_source_expressions())
        return self.template % {"expressions": secret_map, "mounts": mounts}, [*secret_params, *mount_params]


def wire_pods(queryset) -> list:
    """Each pod of ``queryset`` as ``render_pod`` renders it, for the 1,000-pod list.

    Postgres writes each pod's JSON (:class:`_WirePodJSON`) and says whether it needs redacting
    (:class:`_NeedsRedaction`); the rest goes into the response as an ``orjson.Fragment``: no row
    parsed, no dict built, nothing encoded twice. The rows are read straight from the cursor (two
    plain columns: nothing for the ORM to convert). A pod that needs redacting is parsed and
    redacted as ``render_pod`` does. Encode the result with orjson only (``ok(..., fast_json=True)``).
    """
    queryset = queryset.annotate(_wire=_WirePodJSON(), _redact=_NeedsRedaction()).values_list("_wire", "_redact")
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. a window of zero pods: nothing to ask Postgres
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for text, redact in rows:
        if redact:
            pod = orjson.loads(text)
            pod["volume_mounts"] = redact_mounts(pod["volume_mounts"])
            pod["secret_map"] = redacted_secret_map(pod["secret_map"])
            result.append(pod)
        else:
            result.append(orjson.Fragment(text))
    return result


def redact_mounts(mounts: dict) -> dict:
    """``config_content`` may hold secrets; it is not echoed (upstream redacts it too), by any
    endpoint: ``get_pod``, ``list_pods`` and ``get_derived_pod`` alike."""
    out = {}
    for path, mount in (mounts or {}).items():
        if isinstance(mount, dict) and mount.get("config_content"):
            mount = {**mount, "config_content": "<redacted>"}
        out[path] = mount
    return out


def pod_url(networking: dict | None) -> str:
    """The pod's top-level ``url`` (upstream's user guide): its ``default`` networking entry's, else
    the first entry's; empty when it has none."""
    entries = networking or {}
    entry = entries.get("default") or next(iter(entries.values()), None) or {}
    return entry.get("url", "") if isinstance(entry, dict) else ""


def render_pod(pod: Pod | dict) -> dict:
    """A pod, or a ``values(*DISPLAY_COLUMNS)`` row (lists use :func:`wire_pods`)."""
    row = pod if isinstance(pod, dict) else {name: getattr(pod, name) for name in DISPLAY_COLUMNS}
    return {
        "pod_id": row["pod_id"],
        "image": row["image"],
        "template": row["template"],
        "pod_template": row["pod_template"],
        "description": row["description"],
        "command": row["command"],
        "arguments": row["arguments"],
        "environment_variables": row["environment_variables"],
        "status_requested": row["status_requested"],
        "volume_mounts": redact_mounts(row["volume_mounts"]),
        "time_to_stop_default": row["time_to_stop_default"],
        "time_to_stop_instance": row["time_to_stop_instance"],
        "time_to_stop_ts": wire_datetime(row["time_to_stop_ts"]),
        "networking": row["networking"],
        "url": pod_url(row["networking"]),
        "resources": row["resources"],
        "compute_queue": row["compute_queue"],
        "status": row["status"],
        "status_container": row["status_container"],
        "creation_ts": wire_datetime(row["creation_ts"]),
        "update_ts": wire_datetime(row["update_ts"]),
        "start_instance_ts": wire_datetime(row["start_instance_ts"]),
        # References and placeholders as written; literal values are never echoed.
        "secret_map": redacted_secret_map(row["secret_map"]),
        "healthchecks": row["healthchecks"],
        # Upstream's flag "the proxy routes to the pod": /traefik-config routes AVAILABLE pods only.
        "networking_live": row["status"] == "AVAILABLE",
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
