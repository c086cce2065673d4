"""The append-only pod event log: every change, with actor and time.

Upstream's ``action_logs`` strings are rendered from it. Events outlive their pod (the FK is
nulled on delete; ``pod_uid``, tenant and ``pod_name`` stay), so deletions remain auditable and a
re-created pod with the same id does not inherit its predecessor's history.
Never put secrets (credentials, environment values) in a message.
"""
from django.db import models
from django.utils import timezone


class PodEventKind(models.TextChoices):
    CREATED = "created"
    STATUS = "status"          # a status transition (pods.lifecycle.transition)
    REQUESTED = "requested"    # status_requested changed (start/stop/restart/update)
    UPDATED = "updated"        # spec fields changed
    PERMISSION = "permission"  # a grant or revocation
    DELETED = "deleted"
    NOTE = "note"              # anything else worth recording (worker notes, admin actions)


class PodEvent(models.Model):
    pod = models.ForeignKey("pods.Pod", on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="events")
    pod_uid = models.UUIDField(db_index=True)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    pod_name = models.CharField(max_length=64, help_text="The pod's pod_id (kept after deletion).")
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=PodEventKind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["pod", "created_at"], name="pod_event_pod_time_idx")]

    def __str__(self):
        return f"{self.pod_name} {self.kind} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def for_pod(cls, pod, *, actor: str, kind: str, message: str = "", from_status: str = "",
                to_status: str = "") -> "PodEvent":
        """An unsaved event about ``pod`` (save it, or pass a list of them to bulk_create)."""
        return cls(pod=pod, pod_uid=pod.uid, tenant_id=pod.tenant_id, pod_name=pod.pod_id,
                   actor=actor, kind=kind, message=message, from_status=from_status,
                   to_status=to_status)

    def as_action_log(self) -> str:
        """Upstream's ``"%y/%m/%d %H:%M: message"`` line."""
        return f"{self.created_at:%y/%m/%d %H:%M}: {self.message}"
