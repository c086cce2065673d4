from django.db import migrations

# pods_pod.wire: each pod's wire JSON, kept by a trigger that pods.apps writes after every
# migrate from pods.api.rendering (so it always matches the code). Not a model field: the ORM
# never loads it; only the list reads it (pods.api.rendering.wire_pods).


class Migration(migrations.Migration):
    dependencies = [("pods", "0011_fewer_pod_indexes")]

    operations = [
        migrations.RunSQL("ALTER TABLE pods_pod ADD COLUMN wire text",
                          "DROP TRIGGER IF EXISTS pods_pod_wire ON pods_pod; DROP FUNCTION IF EXISTS pods_pod_wire(); "
                          "ALTER TABLE pods_pod DROP COLUMN wire"),
    ]
