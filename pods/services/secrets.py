"""Secrets: the per-user secrets API (create, update, delete), and what pods do with them
(checking a pod's ``secret_map`` when it is written, resolving it when the pod starts).

Every secret operation, including each read of a value and each refusal, goes to the action log
(``StorageEvent``, as volumes), never with the value. Values are encrypted at rest
(:mod:`tenancy.crypto`) and reach the cluster only inside the pod's Kubernetes Secret.
"""
import json
import secrets as pysecrets
import string

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import BadRequest, Conflict, Forbidden, InvalidInput
from core.permissions import PermissionLevel
from pods.models import Pod, PodSecret, SecretScope, StorageEvent
from podspec import secret_map as sm
from tenancy import crypto

from .pods import actor_of

_ALPHABET = string.ascii_letters + string.digits


def _log(secret: PodSecret, actor: str, message: str) -> None:
    StorageEvent.record(secret, actor=actor, message=message)


# --- The secrets API -----------------------------------------------------------------------

@transaction.atomic
def secret_create(*, principal, data: dict) -> PodSecret:
    """A new secret owned by ``principal`` (ADMIN on it). POST only creates (as upstream's
    current tests): an id already in the tenant is a 409 pointing to PUT, whoever owns it.

    A ``pod``-scoped secret names a pod id; only a pod of that id may use it (and only through
    its creator's own references, like any secret).
    """
    tenant = principal.tenant
    actor = actor_of(principal)
    scope = data.get("scope", SecretScope.USER)
    pod_id = data.get("pod_id") or ""
    secret_id = data["secret_id"]
    if PodSecret.objects.filter(tenant=tenant, secret_id=secret_id).exists():
        raise Conflict(f"Secret '{secret_id}' already exists. To change it, use PUT /v3/pods/secrets/{secret_id} "
                       "(its owner); secret ids are unique in a tenant.")
    secret = PodSecret(tenant=tenant, secret_id=data["secret_id"], scope=scope, pod_id=pod_id,
                       description=data.get("description", ""), readable=data.get("readable", True),
                       writable=data.get("writable", True), added_by=principal.username)
    secret.value = data["secret_value"]
    try:
        with transaction.atomic():
            secret.save(force_insert=True)
    except IntegrityError:
        raise Conflict(f"Secret '{secret_id}' already exists. To change it, use PUT "
                       f"/v3/pods/secrets/{secret_id}.") from None
    secret.permission_model().objects.create(target=secret, username=principal.username,
                                             level=PermissionLevel.ADMIN, granted_by=actor)
    _log(secret, actor, f"{actor} created the secret (scope {scope})")
    return secret


def secret_read_value(*, secret: PodSecret, principal) -> str:
    """The value, for a holder of USER on a ``readable`` secret (the view checked USER)."""
    actor = actor_of(principal)
    if not secret.readable:
        _log(secret, actor, f"{actor} was refused the value (readable=False)")
        raise Forbidden(f"Secret '{secret.secret_id}' has readable=False: its value cannot be read through "
                        "the API (pods still receive it through secret_map). To make it readable, delete it "
                        "and create it again with readable=True.")
    _log(secret, actor, f"{actor} read the value")
    return secret.value


@transaction.atomic
def secret_update(*, secret: PodSecret, principal, data: dict) -> PodSecret:
    """``description`` and/or ``secret_value`` (the latter only while ``writable``)."""
    actor = actor_of(principal)
    fields = []
    if data.get("secret_value") is not None:
        if not secret.writable:
            _log(secret, actor, f"{actor} was refused updating the value (writable=False)")
            raise Forbidden(f"Secret '{secret.secret_id}' has writable=False: its value is set once. "
                            "The description can still change.")
        secret.value = data["secret_value"]
        fields.append("value_encrypted")
    if data.get("description") is not None:
        secret.description = data["description"]
        fields.append("description")
    if not fields:
        raise BadRequest("Give description and/or secret_value.")
    secret.update_ts = timezone.now()
    secret.save(update_fields=[*fields, "update_ts"])
    what = " and ".join(("value" if f == "value_encrypted" else f) for f in fields)
    _log(secret, actor, f"{actor} updated the {what}")
    return secret


@transaction.atomic
def secret_delete(*, secret: PodSecret, principal) -> None:
    actor = actor_of(principal)
    _log(secret, actor, f"{actor} deleted the secret")
    secret.delete()


# --- Pods' secret_map ----------------------------------------------------------------------

def check_references(*, tenant, writer: str, secret_map: dict, pod_id: str) -> None:
    """Every ``${secret:user:name}`` the writer put in a pod names the writer's own existing
    secret (400 naming the key otherwise): nobody injects someone else's secret."""
    errors = {}
    for key, value in (secret_map or {}).items():
        entry = sm.parse(value)
        if entry.kind != "secret":
            continue
        owner = entry.owner or writer
        if owner != writer:
            errors[key] = [f"Secret reference '{value}' names user '{owner}' but you are '{writer}': "
                           "a pod can only use your own secrets."]
            continue
        if _usable(tenant, owner, entry.name, pod_id) is None:
            errors[key] = [f"Secret '{entry.name}' of user '{owner}' not found."]
    if errors:
        raise InvalidInput({"secret_map": errors})


def _usable(tenant, owner: str, name: str, pod_id: str) -> PodSecret | None:
    secret = PodSecret.objects.filter(tenant=tenant, secret_id=name, added_by=owner).first()
    if secret is None or (secret.scope == SecretScope.POD and secret.pod_id != pod_id):
        return None
    return secret


def placeholder_metadata(secret_map: dict) -> dict:
    """Upstream's ``metadata.available_placeholders``: what a pod may (or must) still give."""
    required, optional = [], []
    for key, value in sorted((secret_map or {}).items()):
        try:
            entry = sm.parse(value)
        except ValueError:
            continue
        if entry.kind == "required":
            required.append(f"REQUIRED: '{key}' - {entry.description or 'no description'}")
        elif entry.kind == "default":
            optional.append(f"OPTIONAL: '{key}' - {entry.description or 'no description'} "
                            f"(Default: '{entry.default}')")
    if not required and not optional:
        return {}
    return {"available_placeholders": {"required": required, "optional": optional}}


def check_uses(*, secret_map: dict, environment_variables: dict, volume_mounts: dict,
               required: bool = True) -> None:
    """400 when a ``${pods:secrets:KEY}`` names no entry, or (``required``) when a value a
    template requires (``${:?…}``) was not given."""
    errors = {}
    env = sm.unknown_uses(environment_variables, secret_map, "Environment variable")
    if env:
        errors["environment_variables"] = env
    contents = {path: (mount or {}).get("config_content") for path, mount in (volume_mounts or {}).items()}
    files = sm.unknown_uses({k: v for k, v in contents.items() if v}, secret_map, "Mount")
    if files:
        errors["volume_mounts"] = files
    if required:
        missing = sm.required_missing(secret_map)
        if missing:
            errors["secret_map"] = [f"Missing required placeholders in secret_map: {'; '.join(missing)}. "
                                    "Add to pod's secret_map."]
    if errors:
        raise InvalidInput(errors)


def generated_values(pod: Pod) -> dict:
    return json.loads(crypto.decrypt(pod.generated_secrets_encrypted)) if pod.generated_secrets_encrypted else {}


def generate_random_values(pod: Pod, secret_map: dict) -> None:
    """Give each ``${pods:random:N}`` entry its value once (kept across restarts); unsaved."""
    values = generated_values(pod)
    wanted = {}
    for key, value in (secret_map or {}).items():
        entry = sm.parse(value)
        if entry.kind == "random":
            old = values.get(key)
            wanted[key] = old if old and len(old) == entry.length else "".join(
                pysecrets.choice(_ALPHABET) for _ in range(entry.length))
    pod.generated_secrets_encrypted = crypto.encrypt(json.dumps(wanted)) if wanted else ""


def resolve(pod: Pod, secret_map: dict, networking: dict) -> dict:
    """Every entry's value, for the worker building the pod's Kubernetes Secret.

    A secret deleted since the pod was written, or no longer its writer's: 400 naming the key
    (the worker marks the pod ERROR with the message). Each secret read is logged.
    """
    generated = generated_values(pod)
    resolved, errors = {}, {}
    for key, value in (secret_map or {}).items():
        entry = sm.parse(value)
        if entry.kind == "secret":
            secret = _usable(pod.tenant, entry.owner or pod.created_by, entry.name, pod.pod_id)
            if secret is None:
                errors[key] = [f"Secret '{entry.name}' of user '{entry.owner}' no longer exists."]
                continue
            resolved[key] = secret.value
            _log(secret, "pods-service", f"pods-service delivered the value to pod '{pod.pod_id}' ({key})")
        elif entry.kind == "random":
            if key not in generated:
                errors[key] = ["The random value was never generated; update the pod's secret_map."]
                continue
            resolved[key] = generated[key]
        elif entry.kind == "default":
            resolved[key] = entry.default
        elif entry.kind == "required":
            errors[key] = [f"Required value not given: {entry.description or key}."]
        elif entry.kind == "networking":
            net = (networking or {}).get(entry.name) or {}
            url = net.get("url") or ""
            resolved[key] = {"url": url, "hostname": url.split("/", 1)[0], "port": str(net.get("port") or ""),
                             "protocol": net.get("protocol") or ""}[entry.field]
        else:
            resolved[key] = sm.fill_inline(value)
    if errors:
        raise InvalidInput({"secret_map": errors})
    return resolved


def resolve_for_owner(pod: Pod, spec: dict, username: str) -> list[str]:
    """``get_derived_pod?resolve_secrets=true`` (a pod ADMIN): put into ``spec``'s environment the
    values the caller may read anyway — their own ``readable`` secrets, the pod's generated and
    default values, its address — and leave every other use as written. Returns the keys left.

    Upstream resolves every secret for any pod ADMIN; here another user's secret (or an
    unreadable one) is never shown (docs/upstream-differences.md). Each value shown is logged.
    """
    env = spec.get("environment_variables") or {}
    used = set()
    for value in env.values():
        used |= sm.uses(value)
    if not used:
        return []
    generated, resolved, withheld = generated_values(pod), {}, []
    for key in sorted(used):
        value = (spec.get("secret_map") or {}).get(key)
        if value is None:
            withheld.append(key)
            continue
        entry = sm.parse(value)
        if entry.kind == "secret":
            secret = _usable(pod.tenant, entry.owner, entry.name, pod.pod_id)
            if secret is None or secret.added_by != username or not secret.readable:
                withheld.append(key)
                continue
            resolved[key] = secret.value
            _log(secret, username, f"{username} read the value through get_derived_pod of pod '{pod.pod_id}'")
        elif entry.kind == "random":
            if key in generated:
                resolved[key] = generated[key]
            else:
                withheld.append(key)
        elif entry.kind == "required":
            withheld.append(key)
        else:
            resolved.update(resolve(pod, {key: value}, spec.get("networking") or {}))
    for name, value in env.items():
        if sm.uses(value) and sm.uses(value) <= set(resolved):
            env[name] = sm.substitute(value, resolved)
    return withheld
