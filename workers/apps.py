from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "Workers"

    def ready(self):
        from workers.heartbeat import connect_signals

        connect_signals()

        from workers import task_metrics

        task_metrics.connect()

        from workers import db_connections

        db_connections.connect()
