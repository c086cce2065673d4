"""The list's fast rendering (Postgres writes each pod's JSON) says exactly what get_pod says."""
import datetime as dt
import json

from django.utils import timezone

from core.permissions import PermissionLevel
from pods.api.rendering import render_pod, wire_pods
from pods.models import Pod, PodPermission
from podspec.networking import default_networking

UTC = dt.UTC


def make(tenant, pod_id, **fields):
    fields.setdefault("networking", default_networking())
    pod = Pod.objects.create(tenant=tenant, pod_id=pod_id, image="kubesim/happy", **fields)
    PodPermission.objects.create(pod=pod, username="alice", level=PermissionLevel.ADMIN)
    return pod


def test_wire_pods_matches_render_pod_field_for_field(tenant):
    make(tenant, "plain")
    make(tenant, "tricky",
         description='quotes " and \\ backslash, newline\n, tab\t, unicode é ✓, control \x01',
         command=["sh", "-c", "echo 'hi'"], arguments=["--x=1", ""],
         environment_variables={"B": "2", "A": "x\"y", "NESTED": "{\"json\": true}"},
         resources={"cpu_limit": 2000, "mem_limit": 3072, "gpus": 0},
         status_container={"message": "ok", "restart_count": 3, "ratio": 0.5},
         time_to_stop_instance=-1,
         # whole seconds (isoformat writes no fraction), trailing zeros (it writes six digits)
         creation_ts=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
         update_ts=dt.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
         start_instance_ts=dt.datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
         time_to_stop_ts=timezone.now())
    make(tenant, "secretmount", volume_mounts={
        "/conf/app.ini": {"type": "ephemeral", "config_content": "password=hunter2"},
        "/data": {"type": "ephemeral", "size_limit": "1Gi"}})
    make(tenant, "secretmap", secret_map={"API_KEY": "${secret:alice:key}", "PLAIN": "hunter2"},
         healthchecks={"readiness": {"http_get": {"path": "/", "port": 5000}}},
         status="AVAILABLE")
    make(tenant, "nodefault", networking={"bolt": {"protocol": "tcp", "port": 7687, "url": "b.pods.x"},
                                          "browser": {"protocol": "http", "port": 7474, "url": "w.pods.x"}})
    make(tenant, "nonet", networking={})
    make(tenant, "tz", creation_ts=dt.datetime(2026, 6, 30, 23, 59, 59, 999999,
                                               tzinfo=dt.timezone(dt.timedelta(hours=-5))))

    queryset = Pod.objects.filter(tenant=tenant).order_by("pod_id")
    import orjson

    fast = json.loads(orjson.dumps(wire_pods(queryset)))
    slow = json.loads(json.dumps([render_pod(pod) for pod in queryset]))
    assert fast == slow
    assert [list(p) for p in fast] == [list(p) for p in slow]  # same keys in the same order
    by_id = {p["pod_id"]: p for p in fast}
    assert by_id["secretmount"]["volume_mounts"]["/conf/app.ini"]["config_content"] == "<redacted>"
    assert by_id["secretmap"]["secret_map"] == {"API_KEY": "${secret:alice:key}", "PLAIN": "<redacted>"}
    assert by_id["secretmap"]["networking_live"] is True and by_id["plain"]["networking_live"] is False
    assert by_id["tricky"]["creation_ts"] == "2026-01-02T03:04:05"
    assert by_id["tricky"]["update_ts"] == "2026-01-02T03:04:05.120000"
    assert by_id["tz"]["creation_ts"] == "2026-07-01T04:59:59.999999"


def test_list_endpoint_serves_the_fast_rendering_as_plain_json(tenant, alice):
    make(tenant, "one", description="é")
    response = alice.get("/v3/pods")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert list(body) == ["result", "status", "version", "message", "metadata"]
    assert body["result"] == [json.loads(json.dumps(render_pod(Pod.objects.get(pod_id="one"))))]
    assert alice.get("/v3/pods/one").json()["result"] == body["result"][0]


# --- The stored copy (pods_pod.wire, kept by a trigger) -----------------------------------------

def _stored_and_built(pod_id):
    from django.db import connection

    from pods.api.rendering import _wire_json_sql

    built = _wire_json_sql(lambda name: f'"pods_pod"."{Pod._meta.get_field(name).column}"')
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT wire, {built} FROM pods_pod WHERE pod_id = %s', [pod_id])
        return cursor.fetchone()


def test_every_write_keeps_the_stored_wire_current(tenant):
    from django.db import connection

    pod = make(tenant, "kept", description="first")
    stored, built = _stored_and_built("kept")
    assert stored is not None and stored == built and json.loads(stored)["description"] == "first"
    pod.status = "AVAILABLE"
    pod.save(update_fields=["status"])  # the ORM, one column
    assert json.loads(_stored_and_built("kept")[0])["networking_live"] is True
    Pod.objects.filter(pk=pod.pk).update(description="bulk")  # a queryset update
    assert json.loads(_stored_and_built("kept")[0])["description"] == "bulk"
    with connection.cursor() as cursor:  # plain SQL, as an operator might
        cursor.execute("UPDATE pods_pod SET environment_variables = '{\"K\": \"v\"}' WHERE id = %s", [pod.pk])
    stored, built = _stored_and_built("kept")
    assert stored == built and json.loads(stored)["environment_variables"] == {"K": "v"}
    import orjson

    assert orjson.dumps(wire_pods(Pod.objects.filter(pk=pod.pk))[0]).decode() == stored  # what the list sends


def test_migrate_rewrites_a_changed_trigger_and_recomputes_every_pod(tenant):
    from django.db import connection

    from pods.api.rendering import install_wire_trigger

    make(tenant, "old", description="before")
    assert install_wire_trigger(connection) is False  # unchanged: nothing rewritten
    with connection.cursor() as cursor:  # an older code's function, and a row it wrote
        cursor.execute("CREATE OR REPLACE FUNCTION pods_pod_wire() RETURNS trigger LANGUAGE plpgsql "
                       "AS $$ BEGIN NEW.wire := '{\"stale\": true}'; RETURN NEW; END $$")
        cursor.execute("UPDATE pods_pod SET description = 'after' WHERE pod_id = 'old'")
    assert _stored_and_built("old")[0] == '{"stale": true}'
    assert install_wire_trigger(connection) is True
    stored, built = _stored_and_built("old")
    assert stored == built and json.loads(stored)["description"] == "after"


def test_a_row_without_its_stored_wire_is_built_on_the_spot(tenant):
    from django.db import connection

    make(tenant, "bare", description="x")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no ordinary trigger fires
        cursor.execute("UPDATE pods_pod SET wire = NULL, description = 'y' WHERE pod_id = 'bare'")
        cursor.execute("SET LOCAL session_replication_role = origin")
    import orjson

    assert json.loads(orjson.dumps(wire_pods(Pod.objects.filter(pod_id="bare"))[0]))["description"] == "y"
