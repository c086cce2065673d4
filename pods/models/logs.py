"""Container logs, one row per run (instance) of a pod, written by the worker.

The worker appends incrementally (``collected_until`` is where the next ``sinceTime`` starts)
and caps ``text`` per run, setting ``truncated`` when it dropped the oldest lines. A restart
starts a new run, so the previous run's logs stay readable.
"""
from django.db import models
from django.utils import timezone


class PodLogRun(models.Model):
    pod = models.ForeignKey("pods.Pod", on_delete=models.CASCADE, related_name="log_runs")
    instance_id = models.UUIDField()
    text = models.TextField(blank=True, default="")
    bytes = models.PositiveBigIntegerField(default=0, help_text="Bytes collected in this run.")
    truncated = models.BooleanField(default=False)
    collected_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "instance_id"], name="pod_log_run_unique_instance"),
        ]
        indexes = [models.Index(fields=["pod", "-started_at"], name="pod_log_run_recent_idx")]

    def __str__(self):
        return f"logs of {self.pod_id} run {self.instance_id}"

    def summary(self) -> dict:
        """Run metadata without the text (for listings)."""
        return {
            "instance_id": str(self.instance_id),
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "collected_until": self.collected_until,
            "bytes": self.bytes,
            "truncated": self.truncated,
        }
