"""Writes to pods: create, update, delete and the lifecycle requests (start, stop, restart).

Views and admin actions call these; each writes the database, appends events and, when desired
state changed, calls :func:`pods.lifecycle.wake_reconciler` (which sends after commit).
``data`` is input already checked by the API serializers.
"""
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, QuotaExceeded
from core.permissions import PermissionLevel
from core.prepared import PreparedQuery, delete, insert, insert_all, reserve_pk
from pods.choices import RESTART_FIELDS, PodStatus, RequestedStatus
from pods.derive import ledger_after, materialise, value_location
from pods.lifecycle import _send as _send_task
from pods.lifecycle import (
    remove_objects_of_deleted_pod,
    request_status,
    transition,
    wake_reconciler,
)
from pods.models import Pod, PodCredentials, PodEvent, PodEventKind, PodPermission, PodUsage, UsageScope
from pods.models.pods import DEFAULT_TIME_TO_STOP
from podspec import images
from podspec.merge import MERGED_FIELDS
from podspec.mounts import normalise_volume_mounts, pod_claim_name
from podspec.networking import default_networking, normalise_networking
from podspec.resources import normalise_resources
from templates_catalog.models import image_allowed, image_denied
from tenancy.models import Tenant

from .mounts import authorize_mounts
from .templated import newest_like, template_version_for

REMOVE_CLAIMS_TASK = "workers.remove_pod_claims"

# Fields whose values may be shown in an event message (never environment values or mounts).
_SHOWN_IN_EVENTS = ("image", "description", "status_requested", "time_to_stop_default",
                    "time_to_stop_instance", "compute_queue")


def actor_of(principal) -> str:
    """How a principal appears in events (admin mode is marked, as upstream's "ADMIN " prefix)."""
    return f"ADMIN {principal.username}" if principal.admin_mode else principal.username


def caller_level(pod: Pod, principal) -> int:
    """The principal's effective level on ``pod`` (the viewset's ``level`` annotation if present)."""
    level = getattr(pod, "level", None)
    if level is None:
        level = Pod.objects.with_level(principal).values_list("level", flat=True).get(pk=pod.pk)
    return int(level)


def _authors_after(pod: Pod, *, level: int, data: dict, sent: dict, before: dict, before_ledger) -> dict:
    """``value_authors`` once ``data`` is applied by someone holding ``level`` (see pods.derive).

    A value counts as written now when it changed, or when the user takes over a value the
    template supplied (it enters the ledger): re-sending an ADMIN's value unchanged keeps it the
    ADMIN's, and re-sending a template's value makes it the sender's. Whatever an ADMIN sends
    becomes the ADMIN's, changed or not: that is how an ADMIN vouches for a value (or for the
    template) a USER wrote.
    """
    authors = dict(pod.value_authors or {})
    ledger_before, ledger_now = set(before_ledger or ()), set(pod.modified_fields or ())
    vouching = level >= PermissionLevel.ADMIN
    written = []
    for name in ("command", "arguments"):
        if name in data and (vouching or name not in ledger_before or before[name] != getattr(pod, name)):
            written.append(name)
    for name in ("environment_variables", "volume_mounts"):
        for key, value in (sent.get(name) or {}).items():
            location = value_location(name, key)
            if value is not None and (vouching or location not in ledger_before
                                      or (before[name] or {}).get(key) != value):
                written.append(location)
    if "template" in data and (vouching or before["template"] != pod.template):
        written.append("template")
    for location in written:
        if level >= PermissionLevel.ADMIN:
            authors.pop(location, None)
        else:
            authors[location] = level
    # Values the user no longer sets now come from the template (or are gone).
    return {loc: lvl for loc, lvl in authors.items() if loc == "template" or loc in ledger_now
            or (pod.template_tag_id is None and loc in written)}


def _check_image(tenant, image: str) -> None:
    if not images.is_valid_reference(image):
        raise InvalidInput({"image": [f"{image!r} is not a valid image reference."]})
    if not image_allowed(tenant, image):
        raise InvalidInput({"image": [
            f"Image {images.image_name(image)!r} is not on this site's allow-list of images."]})


def _check_not_denied(tenant, image: str) -> None:
    """An image a template supplies: its publisher vouched for it, but the tenant's deny wins."""
    if image and image_denied(tenant, image):
        raise InvalidInput({"image": [
            f"Image {images.image_name(image)!r} (from the template) is denied for tenant "
            f"'{tenant.tenant_id}' by its image allow-list."]})


_USAGE_COLUMNS = ("scope", "username", "pods", "cpu_millicores", "memory_mb")
_USAGE_OF = PreparedQuery(  # the tenant's row and the creator's, compiled once (create's hot path)
    lambda tenant, me: PodUsage.objects.filter(tenant_id=tenant, username__in=("", me)).values_list(*_USAGE_COLUMNS),
    tenant="int", me="text")


def _check_quotas(tenant: Tenant, *, creator: str | None = None, add_pods: int = 0, add_cpu: int = 0,
                  add_mem: int = 0, lock: bool = False) -> None:
    """403 naming the quota when the tenant's counted use plus the ``add_*`` deltas exceeds it.

    Every pod counts, running or not: a stopped pod can be started at any time. The use comes
    from the counters Postgres keeps (:mod:`pods.models.usage`): a create checks after its insert,
    whose trigger has already counted the new pod and holds the tenant's counter row until the
    commit, so concurrent creates cannot both squeeze under a limit. An update checks before
    writing, with ``lock`` (the same row, taken first) and the change as deltas. Pod counts have
    site defaults (``PODS_TENANT_MAX_PODS`` per tenant, ``PODS_USER_MAX_PODS`` per creating user)
    that a tenant's own values replace.
    """
    max_pods = tenant.max_pods if tenant.max_pods is not None else settings.PODS_TENANT_MAX_PODS
    per_user = tenant.max_pods_per_user if tenant.max_pods_per_user is not None else settings.PODS_USER_MAX_PODS
    if lock:
        rows = PodUsage.objects.filter(tenant_id=tenant.pk, username__in=("", creator or "")) \
            .order_by("scope").select_for_update().values_list(*_USAGE_COLUMNS)
    else:
        rows = _USAGE_OF.tuples(tenant=tenant.pk, me=creator or "")
    used = {(scope, username): (n, cpu, mem) for scope, username, n, cpu, mem in rows}
    n, cpu, mem = used.get((UsageScope.TENANT, ""), (0, 0, 0))
    checks = [("max_pods", max_pods, n + add_pods)]
    if creator:
        mine = used.get((UsageScope.USER, creator), (0, 0, 0))[0]
        checks.append(("max_pods_per_user", per_user, mine + add_pods))
    for quota, limit, total in (*checks,
                                ("max_cpu_millicores", tenant.max_cpu_millicores, cpu + add_cpu),
                                ("max_memory_mb", tenant.max_memory_mb, mem + add_mem)):
        if limit is not None and total > limit:
            raise QuotaExceeded(
                f"Tenant quota {quota} exceeded: this would make {total}, the limit is {limit}.",
                metadata={"quota": quota, "limit": limit, "requested_total": total})


POD_ID_CONSTRAINT = "pod_unique_per_tenant"


def _violated(exc: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError reports (psycopg's diagnostics)."""
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


@transaction.atomic
def pod_create(*, principal, data: dict) -> Pod:
    """Create a pod for ``principal`` (who becomes its ADMIN), with fresh credentials.

    ``status_requested`` ON (the default; RESTART counts as ON) → status REQUESTED and the
    worker is woken; OFF → STOPPED. 409 for a pod_id taken in the tenant, 403 over a quota.
    """
    # The tenant's usage counters are locked only from the insert (its trigger counts the pod) to
    # the commit: that serialises the creates of a tenant, so the quota check and the insert are
    # atomic. Validation, the template and the spec are worked out before, outside the lock.
    tenant = principal.tenant
    pod_id = data["pod_id"]
    if data.get("image"):
        _check_image(tenant, data["image"])
    version = template_version_for(principal=principal, reference=data.get("template", ""))
    secret_map = _written_secret_map(tenant=tenant, principal=principal, value=data.get("secret_map", {}),
                                     pod_id=pod_id)
    volume_mounts = authorize_mounts(principal=principal, mounts=normalise_volume_mounts(data.get("volume_mounts", {})))
    wants_on = data.get("status_requested", RequestedStatus.ON) != RequestedStatus.OFF
    now = timezone.now()
    pod = Pod(
        tenant=tenant,
        pod_id=pod_id,
        image=data.get("image", ""),
        template=version.reference if version else "",
        template_tag=version,
        pod_template=data.get("pod_template", "") if version else "",
        description=data.get("description", ""),
        command=data.get("command"),
        arguments=data.get("arguments"),
        environment_variables=data.get("environment_variables", {}),
        status_requested=RequestedStatus.ON if wants_on else RequestedStatus.OFF,
        volume_mounts=volume_mounts,
        time_to_stop_default=data.get("time_to_stop_default", DEFAULT_TIME_TO_STOP),
        time_to_stop_instance=data.get("time_to_stop_instance"),
        networking=normalise_networking(data.get("networking") or default_networking(),
                                        pod_id=pod_id, pod_domain=tenant.pod_domain),
        resources=normalise_resources(data.get("resources")),
        compute_queue=data.get("compute_queue", "default"),
        secret_map=secret_map,
        healthchecks=data.get("healthchecks"),
        modified_fields=ledger_after([], {**data, "volume_mounts": volume_mounts} if "volume_mounts" in data
                                     else data),
        created_by=principal.username,
        status=PodStatus.REQUESTED if wants_on else PodStatus.STOPPED,
        status_changed_at=now,
        creation_ts=now,
        update_ts=now,
    )
    if version is not None:
        materialise(pod)  # the template's values where the user set none
        if not pod.image:
            raise InvalidInput({"image": [f"This field is required: template '{version.reference}' "
                                             "sets no image."]})
        _check_not_denied(tenant, pod.image)
    _check_secret_uses(pod, required=wants_on or version is not None)
    # The four rows (permission, credentials, event, the pod) are one statement: the pod's
    # insert trigger takes the tenant's counter row at its end, held until the commit, so only
    # the quota check and the commit happen under it (the pod's id is reserved first; the
    # foreign keys are checked at the commit). With more statements under it, concurrent creates
    # of a tenant queued on that row (bench/api_load.py: creates' p95 2.4 s at 32 clients).
    # One statement: core.prepared.insert_all (a round trip, not four).
    pod.pk = reserve_pk(Pod)
    actor = actor_of(principal)
    rows = (PodPermission(pod=pod, username=principal.username, level=PermissionLevel.ADMIN, granted_by=actor),
            PodCredentials.generate(pod),
            PodEvent.for_pod(pod, actor=actor, kind=PodEventKind.CREATED, to_status=pod.status,
                             message=f"Pod object created by '{principal.username}' with status {pod.status}"),
            pod)
    # A taken pod_id is the insert's unique violation (no SELECT first); a quota is checked after
    # the insert, which counted the pod (pods.models.usage): a refusal rolls all of it back.
    try:
        with transaction.atomic(savepoint=False):
            insert_all(*rows)
    except IntegrityError as exc:
        if _violated(exc) != POD_ID_CONSTRAINT:
            raise
        raise Conflict(f"A pod with pod_id '{pod_id}' already exists in this tenant.",
                       metadata={"pod_id": pod_id}) from None
    _check_quotas(tenant, creator=principal.username)
    if wants_on:
        wake_reconciler(pod.pk)
    return pod


def _new_value(pod: Pod, name: str, value):
    """The stored form of ``value`` for field ``name`` (normalised like at create)."""
    if name == "networking":
        return normalise_networking(value, pod_id=pod.pod_id, pod_domain=pod.tenant.pod_domain)
    if name == "resources":
        return normalise_resources(value, base=pod.resources)
    if name == "volume_mounts":
        return normalise_volume_mounts(value)
    return value


# What an update compares to tell a change from a no-op.
_UPDATE_TRACKED = (*MERGED_FIELDS, "template", "status_requested")


@transaction.atomic
def pod_update(*, pod: Pod, principal, data: dict) -> tuple[Pod, list[str]]:
    """Apply the fields sent in ``data``; return the pod and the names of fields that changed.

    Fields not sent keep their values; ``resources`` merges key by key. Sent fields enter the
    ledger (they now win over the template). ``template`` moves the pod to another template
    version (or, empty, detaches it). A templated pod's stored fields are derived again. A
    change to ``time_to_stop_instance`` moves the running instance's ``time_to_stop_ts``.
    Changes to what runs (:data:`pods.choices.RESTART_FIELDS`) take effect at the next (re)start.
    """
    level = caller_level(pod, principal)
    # No lock of the tenant row: a quota check locks the tenant's usage counters (pods.models.usage).
    tenant = pod.tenant
    current = Pod.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=pod.pk)
    if ("status_requested" in data and data["status_requested"] != current.status_requested
            and level < PermissionLevel.ADMIN):
        # The same level start_pod, stop_pod and restart_pod need: desired state is ADMIN's.
        raise Forbidden(f"Not authorized: changing status_requested needs ADMIN permission on pod "
                        f"'{pod.pod_id}' (as start_pod, stop_pod and restart_pod do); you have "
                        f"{PermissionLevel(level).label if level else 'no'} permission.")
    before = {name: getattr(current, name) for name in _UPDATE_TRACKED}
    before_ledger = list(current.modified_fields or ())
    sent = {name: _new_value(current, name, value) for name, value in data.items() if name != "template"}
    if "volume_mounts" in sent:
        authorize_mounts(principal=principal, mounts=sent["volume_mounts"], previous=current.volume_mounts)
    if "secret_map" in sent:
        sent["secret_map"] = _written_secret_map(tenant=current.tenant, principal=principal,
                                                 value=sent["secret_map"], pod_id=current.pod_id)
    for name, value in sent.items():
        setattr(current, name, value)
    if "template" in data:
        version = template_version_for(principal=principal, reference=data["template"])
        current.template_tag = version
        current.template = version.reference if version else ""
        current.pod_template = data["template"] if version else ""
    # The ledger takes the keys as sent (resources merge: only the sent keys become the user's)
    # but mounts as converted (legacy name-keyed mounts are stored by path).
    current.modified_fields = ledger_after(current.modified_fields, {
        **data, **({"volume_mounts": sent["volume_mounts"]} if "volume_mounts" in sent else {})})
    materialise(current)
    authors = _authors_after(current, level=level, data=data, sent=sent, before=before, before_ledger=before_ledger)
    authors_changed = authors != (current.value_authors or {})
    current.value_authors = authors
    changes = {name: getattr(current, name) for name in _UPDATE_TRACKED if getattr(current, name) != before[name]}
    if not changes:
        if current.modified_fields != before_ledger or authors_changed:
            # The user now owns values equal to the template's.
            Pod.objects.filter(pk=current.pk).update(modified_fields=current.modified_fields,
                                                     value_authors=current.value_authors)
        return current, []
    if "image" in data and "image" in changes:
        _check_image(tenant, changes["image"])
    elif "image" in changes:  # a template moved the pod to another image
        _check_not_denied(tenant, changes["image"])
    if current.template_tag_id is not None and not current.image:
        raise InvalidInput({"image": ["This field is required: the template sets no image."]})
    generated_before = current.generated_secrets_encrypted
    _check_secret_uses(current, required=current.status_requested != RequestedStatus.OFF
                       or current.template_tag_id is not None)
    extra_secret = ["generated_secrets_encrypted"] if current.generated_secrets_encrypted != generated_before else []
    if "resources" in changes:
        old, new = before["resources"] or {}, changes["resources"]
        if new["cpu_limit"] > old.get("cpu_limit", 0) or new["mem_limit"] > old.get("mem_limit", 0):
            _check_quotas(tenant, add_cpu=new["cpu_limit"] - old.get("cpu_limit", 0),
                          add_mem=new["mem_limit"] - old.get("mem_limit", 0), lock=True)
    if "time_to_stop_instance" in changes and current.start_instance_ts:
        ttl = changes["time_to_stop_instance"]
        ttl = current.time_to_stop_default if ttl is None else ttl
        changes["time_to_stop_ts"] = current.time_to_stop_ts = (
            None if ttl == -1 else current.start_instance_ts + timedelta(seconds=ttl))
    current.update_ts = timezone.now()
    extra = ["template_tag", "pod_template"] if "template" in changes else []
    current.save(update_fields=[*changes, *extra, *extra_secret, "modified_fields", "value_authors", "update_ts"])
    changed = [name for name in data if name in changes]
    actor = actor_of(principal)
    PodEvent.for_pod(current, actor=actor, kind=PodEventKind.UPDATED,
                     message=_describe_update(actor, changes, changed or sorted(changes))).save()
    if "status_requested" in changes or any(name in RESTART_FIELDS for name in changes) or "template" in changes:
        wake_reconciler(current.pk)
    return current, changed


# --- secret_map (parity2) ----------------------------------------------------------------------

def _written_secret_map(*, tenant, principal, value: dict, pod_id: str) -> dict:
    """The map as stored: ``${secret:name}`` expanded to the writer's, every reference checked."""
    from .secrets import check_references
    from podspec.secret_map import expand_short_references

    expanded = expand_short_references(value or {}, principal.username)
    check_references(tenant=tenant, writer=principal.username, secret_map=expanded, pod_id=pod_id)
    return expanded


def _check_secret_uses(pod: Pod, *, required: bool) -> None:
    """After the template merge: every ``${pods:secrets:KEY}`` has its entry and, for a pod that
    is to run (or one of a template), every required value is given; ``${pods:random:N}``
    values are generated (once)."""
    from .secrets import check_uses, generate_random_values

    check_uses(secret_map=pod.secret_map, environment_variables=pod.environment_variables,
               volume_mounts=pod.volume_mounts, required=required)
    generate_random_values(pod, pod.secret_map)


def _describe_update(actor: str, changes: dict, changed: list[str]) -> str:
    parts = []
    for name in changed:
        if name in _SHOWN_IN_EVENTS and len(str(changes[name])) <= 80:
            parts.append(f"{name}={changes[name]!r}")
        else:
            parts.append(name)  # values may be secrets or long: named only
    return f"{actor} updated the pod: {', '.join(parts)}"


@transaction.atomic
def pod_delete(*, pod: Pod, actor: str) -> None:
    """Delete the pod row (and its permissions, credentials and logs); the id is free at once.

    The worker removes the Kubernetes objects, which it recognises by the deleted row's ``uid``
    label, so a new pod with the same id never adopts them. The event survives the row.
    """
    uid, tenant_id, pod_id, k8_name = pod.uid, pod.tenant_id, pod.pod_id, pod.k8_name
    claims = sorted({pod_claim_name(k8_name, m["source_id"]) for m in (pod.volume_mounts or {}).values()
                     if m and m.get("type") == "pvc" and m.get("source_id")})
    # Lock the row first: a worker's transition (UPDATE, then an event row) that raced the delete
    # would otherwise add an event pointing at the deleted row after Django collected the
    # related rows, and the commit would fail on the foreign key (a 500 seen under load). With
    # the lock, that UPDATE waits for this commit and then matches no row.
    Pod.objects.select_for_update().filter(pk=pod.pk).values_list("pk", flat=True).first()
    # The event first: the row's delete takes the tenant's counter row until the commit (as a
    # create's insert does), and nothing else should run under it. The delete is one statement
    # with its permissions, credentials and logs, its events unlinked (core.prepared.delete).
    insert(PodEvent(pod=None, pod_uid=uid, tenant_id=tenant_id, pod_name=pod_id, actor=actor,
                    kind=PodEventKind.DELETED, message=f"Pod deleted by {actor}"))
    delete(pod)
    remove_objects_of_deleted_pod(k8_name, uid)
    if claims:  # the pod-private claims of its pvc mounts go with it
        transaction.on_commit(lambda: _send_task(REMOVE_CLAIMS_TASK, claims, str(uid)))


def pod_start(*, pod: Pod, actor: str) -> Pod:
    """STOPPED → REQUESTED with status_requested ON. Any other status: 409 naming it."""
    won = transition(pod, to=PodStatus.REQUESTED, expected=[PodStatus.STOPPED], actor=actor,
                     message="start requested",
                     fields={"status_requested": RequestedStatus.ON, "update_ts": timezone.now()})
    if not won:
        status = Pod.objects.filter(pk=pod.pk).values_list("status", flat=True).first()
        raise Conflict(f"Pod '{pod.pod_id}' can only be started when STOPPED; its status is {status}. "
                       "Use restart_pod to restart a running pod.", metadata={"status": status})
    wake_reconciler(pod.pk)
    return pod


def pod_stop(*, pod: Pod, actor: str) -> Pod:
    """Ask for the pod to be stopped (status_requested OFF); the worker tears it down."""
    request_status(pod, requested=RequestedStatus.OFF, actor=actor)
    wake_reconciler(pod.pk)
    return pod


@transaction.atomic
def pod_restart(*, pod: Pod, actor: str, grab_latest_template_tag: bool = False) -> Pod:
    """Ask for a restart (status_requested RESTART): the worker stops the pod, then starts it.

    ``grab_latest_template_tag`` first moves a templated pod to the newest version of its
    template's tag (pinned again; the stored fields are derived anew, the user's values kept).
    """
    fields, message = {}, ""
    if grab_latest_template_tag and pod.template_tag_id is not None:
        current = (Pod.objects.select_for_update(of=("self",)).select_related("tenant", "template_tag")
                   .get(pk=pod.pk))
        newest = newest_like(current.template_tag)
        if newest.pk != current.template_tag_id:
            current.template_tag, current.template = newest, newest.reference
            materialise(current)
            fields = {name: getattr(current, name) for name in (*MERGED_FIELDS, "template", "template_tag")}
            # The restarting ADMIN chose the new version: its values are theirs now.
            fields["value_authors"] = {k: v for k, v in (current.value_authors or {}).items() if k != "template"}
            message = f"{actor} set status_requested to RESTART, moving to template version {newest.reference}"
    request_status(pod, requested=RequestedStatus.RESTART, actor=actor, fields=fields, message=message)
    wake_reconciler(pod.pk)
    return pod
