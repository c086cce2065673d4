from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _install_wire_trigger(sender, using, plan=None, **kwargs):
    """After each migrate: the trigger keeping pods_pod.wire, written from the current code."""
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if ("pods", "0012_pod_wire") not in MigrationRecorder(connection).applied_migrations():
        return  # migrated backwards past the column
    from pods.api.rendering import install_wire_trigger

    install_wire_trigger(connection)


class PodsConfig(AppConfig):
    name = "pods"
    verbose_name = "Pods"

    def ready(self):
        post_migrate.connect(_install_wire_trigger, sender=self, dispatch_uid="pods.wire_trigger")
