"""The Pod: a long-lived service from a Docker image, owned by a tenant.

Desired state is ``status_requested`` plus the spec fields; observed state is ``status`` and
``status_container``, written only through :mod:`pods.lifecycle` (compare-and-set + event).
"""
import hashlib
import uuid
from types import SimpleNamespace

from django.db import models
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.permissions import PermissionLevel
from core.prepared import PreparedQuery
from pods.choices import PodStatus, RequestedStatus
from podspec.networking import default_networking
from tenancy.models import Tenant

K8S_NAME_MAX = 63
DEFAULT_TIME_TO_STOP = 43200  # 12 hours, as upstream


class PodQuerySet(models.QuerySet):
    def visible_to(self, principal):
        """Pods ``principal`` may see: its tenant's pods on which it holds any permission
        (directly or through the ``*`` entry); in admin mode every pod of the tenant."""
        from .permissions import PodPermission

        qs = self.filter(tenant_id=principal.tenant.pk)
        if principal.admin_mode:
            return qs
        grants = PodPermission.objects.filter(pod=OuterRef("pk"),
                                              username__in=(principal.username, "*"))
        return qs.filter(Exists(grants))

    def with_level(self, principal):
        """Annotate ``level``: the principal's effective permission level on each pod (0 = none).

        Admin mode counts as APPROVEDADMIN. One correlated subquery, so it is safe in lists.
        """
        from .permissions import PodPermission

        if principal.admin_mode:
            return self.annotate(level=Value(int(PermissionLevel.APPROVEDADMIN)))
        best = (PodPermission.objects.filter(pod=OuterRef("pk"),
                                             username__in=(principal.username, "*"))
                .order_by("-level").values("level")[:1])
        return self.annotate(level=Coalesce(Subquery(best), Value(0)))

    def in_flight(self):
        """Pods the reconciler's sweep must look at (uses the status index)."""
        from pods.choices import IN_FLIGHT

        return self.filter(status__in=IN_FLIGHT)


class Pod(models.Model):
    # No index of its own: (tenant, pod_id), the unique constraint, serves every tenant lookup.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="pods", db_index=False)
    pod_id = models.CharField(max_length=64)
    # Identifies this row forever: a pod re-created with the same pod_id gets a new uid, so the
    # worker can tell its Kubernetes objects from a deleted predecessor's (label them with it).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Set by the worker on every start; one value per run (log runs are keyed by it).
    instance_id = models.UUIDField(null=True, blank=True)

    # --- Spec (desired state) -----------------------------------------------------------------
    image = models.CharField(max_length=256, blank=True, default="")
    # The template version the pod derives from, pinned as ``id:tag@YYYY-MM-DD-HH:MM:SS`` (shown
    # to users) and as ``template_tag`` (what derivation follows). PROTECT: a version a pod runs
    # cannot be deleted from under it.
    template = models.CharField(max_length=200, blank=True, default="")
    template_tag = models.ForeignKey("templates_catalog.TemplateTag", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="pods")
    # The template as the user named it (``neo4j``, ``template/neo4j``, ``neo4j:v5``), echoed as
    # ``pod_template`` in responses (upstream's user guide shows it); ``template`` is the pinned one.
    pod_template = models.CharField(max_length=200, blank=True, default="")
    description = models.CharField(max_length=404, blank=True, default="")
    command = models.JSONField(null=True, blank=True)
    arguments = models.JSONField(null=True, blank=True)
    environment_variables = models.JSONField(default=dict, blank=True)
    status_requested = models.CharField(max_length=16, choices=RequestedStatus.choices,
                                        default=RequestedStatus.ON)
    # Path-keyed (``{"/data": {"type": ..., ...}}``); the legacy name-keyed format is converted
    # on input.
    volume_mounts = models.JSONField(default=dict, blank=True)
    time_to_stop_default = models.IntegerField(default=DEFAULT_TIME_TO_STOP)
    time_to_stop_instance = models.IntegerField(null=True, blank=True)
    networking = models.JSONField(default=default_networking, blank=True)
    resources = models.JSONField(default=dict, blank=True)
    compute_queue = models.CharField(max_length=64, default="default")
    # --- Secrets and health checks (parity2) ----------------------------------------------------
    # key -> reference (``${secret:owner:name}``), placeholder or literal; see pods.secret_map.
    secret_map = models.JSONField(default=dict, blank=True)
    # Upstream's PodHealthchecks (liveness/readiness/startup probes), or null.
    healthchecks = models.JSONField(null=True, blank=True)
    # Values generated for ``${pods:random:N}`` entries, encrypted (``key -> value`` as JSON);
    # kept across restarts, never rendered.
    generated_secrets_encrypted = models.TextField(blank=True, default="", editable=False)
    # The provenance ledger: which spec fields the user set (``image``, ...), and for dict fields
    # which keys (``environment_variables.FOO``, ``networking.web``, ``resources.cpu_limit``,
    # ``volume_mounts./data``). Fields not in it come from the template (see pods.derive).
    modified_fields = models.JSONField(default=list, blank=True)
    # Who may have put credential placeholders where: value location (``command``,
    # ``environment_variables.FOO``, ``volume_mounts./conf``, ``template`` for everything the
    # template supplies) -> the permission level its last author held on the pod, kept only when
    # below ADMIN (absent: written by the creator or another ADMIN). A placeholder resolves only
    # where that level may read the credential (pods.derive).
    value_authors = models.JSONField(default=dict, blank=True)
    # The user who created the pod (per-user pod quota); the creator's ADMIN grant may be removed.
    # Not indexed: the quota counts come from pods_podusage (pods/models/usage.py).
    created_by = models.CharField(max_length=150, blank=True, default="")

    # --- Observed state (written through pods.lifecycle and by the worker) --------------------
    status = models.CharField(max_length=16, choices=PodStatus.choices, default=PodStatus.STOPPED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_container = models.JSONField(default=dict, blank=True)
    health = models.JSONField(default=dict, blank=True, help_text="Worker bookkeeping.")
    time_to_stop_ts = models.DateTimeField(null=True, blank=True)
    start_instance_ts = models.DateTimeField(null=True, blank=True)

    creation_ts = models.DateTimeField(default=timezone.now)
    # Moves on user writes only (create, update, lifecycle requests), as upstream since 26Q2.
    update_ts = models.DateTimeField(default=timezone.now)

    objects = PodQuerySet.as_manager()

    class Meta:
        ordering = ["tenant_id", "pod_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "pod_id"], name="pod_unique_per_tenant"),
        ]
        # Every index costs each create: status alone is served by the two below.
        indexes = [
            # The watcher's timers, every PODS_SWEEP_SECONDS at any scale: run clocks that
            # expired, starts and stops that stalled (workers/informer.py).
            models.Index(fields=["status", "time_to_stop_ts"], name="pod_status_ttl_idx"),
            models.Index(fields=["status", "status_changed_at"], name="pod_status_changed_idx"),
        ]

    def __str__(self):
        return f"{self.pod_id} ({self.tenant_id})"

    @property
    def k8_name(self) -> str:
        """Name of the pod's Kubernetes Pod and Service: ``pods-{site}-{tenant}-{pod_id}``.

        A DNS-1123 label (ids are lowercase alphanumerics, so only the length needs care): when
        longer than 63 characters it is cut and given an 8-hex hash of the full name, so two
        long names that share a prefix stay distinct. Deterministic: the worker finds objects
        by name, and tells a predecessor's objects apart by the ``uid`` label.
        """
        return k8s_name(self.tenant.site_id, self.tenant.tenant_id, self.pod_id)

    @property
    def time_to_stop(self) -> int:
        """Seconds this instance may run (-1: unlimited)."""
        if self.time_to_stop_instance is not None:
            return self.time_to_stop_instance
        return self.time_to_stop_default

    def urls(self) -> dict[str, str]:
        """networking key → public host name."""
        return {key: entry.get("url", "") for key, entry in (self.networking or {}).items()}


def _visible_pod_query(admin_mode: bool) -> PreparedQuery:
    def build(tenant_pk, pod_id, username=""):
        principal = SimpleNamespace(tenant=SimpleNamespace(pk=tenant_pk), username=username, admin_mode=admin_mode)
        return Pod.objects.visible_to(principal).with_level(principal).filter(pod_id=pod_id).order_by()

    kinds = {"tenant_pk": "int", "pod_id": "text"}
    return PreparedQuery(build, **kinds) if admin_mode else PreparedQuery(build, **kinds, username="text")


_VISIBLE_POD = {False: _visible_pod_query(False), True: _visible_pod_query(True)}


def visible_pod(principal, pod_id: str) -> Pod | None:
    """``principal``'s pod ``pod_id`` with its ``level`` annotation, or None if it may not see it.

    The same rows as ``Pod.objects.visible_to(principal).with_level(principal)``, in one query
    whose SQL is compiled once per process (:mod:`core.prepared`): the pod read path. The pod's
    ``tenant`` is the principal's (the query requires it to be), so it is not joined.
    """
    rows = _VISIBLE_POD[bool(principal.admin_mode)].run(tenant_pk=principal.tenant.pk, pod_id=pod_id,
                                                        username=principal.username)
    if not rows:
        return None
    pod = rows[0]
    pod.tenant = principal.tenant
    return pod


def k8s_name(site_id: str, tenant_id: str, pod_id: str) -> str:
    full = f"pods-{site_id}-{tenant_id}-{pod_id}"
    if len(full) <= K8S_NAME_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[:K8S_NAME_MAX - 9].rstrip('-')}-{digest}"
