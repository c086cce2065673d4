"""The pod as it will run: its template chain merged in, then its credential placeholders.

- A pod without a template runs as stored.
- A templated pod (``template_tag`` set) is derived afresh from what the *user* set over the
  template chain's definitions, by the rules of :mod:`podspec.merge`. The
  ``modified_fields`` ledger says what the user set: top-level names (``image``, ``command``)
  and, for dict fields, the keys (``environment_variables.FOO``, ``networking.web``,
  ``resources.cpu_limit``, ``volume_mounts./data``), so a key the template provides never
  masquerades as the user's when the pod moves to a newer template version.
- The row also stores the derived values (:func:`materialise`, at create, update and when the
  pod moves to another version), so lists, the proxy configuration, time-to-stop and quotas
  read them without deriving.
- Placeholders ``<<TAPIS_user_password>>`` (and upstream's ``<<tapissecret_user_password>>``)
  in command, arguments, environment values and ephemeral mount contents are replaced from the
  pod's credentials only when asked: by the worker building the Kubernetes objects, or for a pod
  ADMIN who asks ``get_derived_pod`` to resolve them. Anywhere else they are shown as written.
- A placeholder resolves only where the **author of that value** held the level that may read
  the credential (:data:`PLACEHOLDER_LEVELS`: the user account is USER's, the admin account
  ADMIN's). ``Pod.value_authors`` records the level of whoever last wrote each value (the
  template's values count as written by whoever attached the template); anything else stays
  as written, and is listed. So a USER cannot pull the admin password into the container by
  writing ``<<TAPIS_admin_password>>`` into an environment variable.
"""
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from core.errors import Conflict
from core.permissions import PermissionLevel
from pods.models import Pod, PodCredentials
from pods.models.pods import DEFAULT_TIME_TO_STOP
from podspec.merge import MERGED_FIELDS, derive, merged_security
from podspec.networking import default_networking, normalise_networking
from podspec.resources import normalise_resources, resource_defaults
from templates_catalog.services.lookup import TemplateLoop, tag_chain

PLACEHOLDER = re.compile(r"<<(?:TAPIS_|tapissecret_)([A-Za-z0-9_]+)>>")

SPEC_FIELDS = ("image", "template", "command", "arguments", "environment_variables", "volume_mounts",
               "networking", "resources", "compute_queue", "time_to_stop_default",
               "time_to_stop_instance", "secret_map", "healthchecks")
# Fields whose keys the ledger tracks one by one.
DICT_FIELDS = ("environment_variables", "volume_mounts", "networking", "resources", "secret_map")
# What the ledger may name at the top level (status_requested is desired state, not spec).
LEDGER_FIELDS = (*MERGED_FIELDS, "template")
# The level that may read each credential: get_pod_credentials (USER) shows the user account;
# only a pod ADMIN ever sees the admin account (get_derived_pod with resolve_secrets).
PLACEHOLDER_LEVELS = {"user_username": PermissionLevel.USER, "user_password": PermissionLevel.USER,
                      "admin_username": PermissionLevel.ADMIN, "admin_password": PermissionLevel.ADMIN}
# The name a command or argument refers to a credential by, when the worker passes credentials
# through a Kubernetes Secret: the kubelet expands $(NAME) from the container's environment.
CREDENTIAL_VARIABLE = "PODS_CREDENTIAL_{}"


@dataclass
class DerivedSpec:
    spec: dict
    unresolved: list[str]  # placeholder names left in place, sorted
    provenance: dict = field(default_factory=dict)  # field → "pod" | "template" | "default"
    chain: list[str] = field(default_factory=list)  # template versions, deepest first
    # Where credentials were put: value location → credential names (the worker's Secret).
    credentials_at: dict = field(default_factory=dict)
    # Placeholders left unresolved because the value's author may not read the credential.
    withheld: list[str] = field(default_factory=list)  # "location: name", sorted


def value_location(name: str, key: str | None = None) -> str:
    """How ``value_authors`` and ``credentials_at`` name a value: ``command``, ``environment_variables.FOO``."""
    return name if key is None else f"{name}.{key}"


def author_level(pod: Pod, location: str) -> int:
    """The level of whoever last wrote the value at ``location`` (template values: of whoever
    attached the template); ADMIN when nobody below ADMIN did."""
    source = location
    if pod.template_tag_id is not None and location not in set(pod.modified_fields or ()):
        source = "template"
    return int((pod.value_authors or {}).get(source, PermissionLevel.ADMIN))


# --- The ledger --------------------------------------------------------------------------------

def ledger_after(modified, data: dict) -> list[str]:
    """The ledger once the user has set the fields in ``data`` (values already normalised).

    A dict sent for environment_variables, networking or volume_mounts replaces the user's keys
    of that field; resources merge key by key (as the pods API applies them). An empty
    ``template`` detaches the pod from its template.
    """
    result = set(modified or ())
    for name, value in data.items():
        if name not in LEDGER_FIELDS:
            continue
        if name == "template" and not value:
            result.discard("template")
            continue
        result.add(name)
        if name in DICT_FIELDS:
            if name != "resources":
                result = {m for m in result if not m.startswith(f"{name}.")}
            result |= {f"{name}.{key}" for key in (value or {})}
    return sorted(result)


def _user_keys(modified: set, name: str) -> list[str]:
    prefix = f"{name}."
    return [m[len(prefix):] for m in sorted(modified) if m.startswith(prefix)]


def _defaults() -> dict:
    return {"image": "", "description": "", "command": None, "arguments": None, "environment_variables": {},
            "volume_mounts": {}, "time_to_stop_default": DEFAULT_TIME_TO_STOP, "time_to_stop_instance": None,
            "networking": default_networking(), "resources": resource_defaults(), "compute_queue": "default",
            "secret_map": {}, "healthchecks": None}


def user_view(pod: Pod) -> tuple[dict, set]:
    """What the user set on ``pod`` (defaults elsewhere), and the names the merge treats as set.

    A ledger key missing from the stored dict is a removal the user asked for (``null``).
    """
    modified = set(pod.modified_fields or ())
    defaults = _defaults()
    view, user_set = {}, set()
    for name in MERGED_FIELDS:
        stored = getattr(pod, name)
        if name not in DICT_FIELDS:
            view[name] = stored if name in modified else defaults[name]
            if name in modified:
                user_set.add(name)
            continue
        entries = {key: (stored or {}).get(key) for key in _user_keys(modified, name)}
        if name == "resources":
            view[name] = {**defaults[name], **{k: v for k, v in entries.items() if v is not None}}
            user_set |= {f"resources.{key}" for key in entries}
        elif name == "volume_mounts":
            view[name] = entries  # None values remove the template's mount
            if entries:
                user_set.add(name)
        else:
            present = {k: v for k, v in entries.items() if v is not None}
            view[name] = present or defaults[name]
            if present:
                user_set.add(name)
    return view, user_set


# --- Deriving ----------------------------------------------------------------------------------

def template_chain(pod: Pod) -> list:
    """The pod's template versions, deepest first. Publishing refuses loops, so a loop here means
    rows edited behind the API's back: 409, and the worker marks the pod ERROR with the message."""
    try:
        return tag_chain(pod.template_tag)
    except TemplateLoop as exc:
        raise Conflict(f"Pod '{pod.pod_id}' cannot be derived: {exc}") from None


def merged_fields(pod: Pod, chain=None) -> tuple[dict, dict]:
    """The templated pod's fields (placeholders untouched) and where each came from.

    Networking entries get the pod's URLs; resources are completed and checked (400 naming
    ``resources`` when a request would exceed a limit).
    """
    if chain is None:
        chain = template_chain(pod)
    view, user_set = user_view(pod)
    fields, provenance = derive(view, user_set, [version.pod_definition for version in chain])
    fields["networking"] = normalise_networking(fields["networking"] or default_networking(),
                                                pod_id=pod.pod_id, pod_domain=pod.tenant.pod_domain)
    fields["resources"] = normalise_resources(fields["resources"])
    return fields, provenance


def materialise(pod: Pod, chain=None) -> None:
    """Store the derived fields on ``pod`` (not saved) so readers need not derive."""
    if pod.template_tag_id is None:
        return
    fields, _ = merged_fields(pod, chain)
    for name, value in fields.items():
        setattr(pod, name, value)


def derived_spec(pod: Pod, *, resolve_credentials: bool = False, command_references: bool = False) -> DerivedSpec:
    """The spec fields of ``pod``, templates merged, placeholders resolved (or left, and listed).

    ``resolve_credentials`` replaces each placeholder its value's author may use
    (:func:`author_level`); ``command_references`` (the worker) writes ``$(PODS_CREDENTIAL_X)``
    into command and arguments instead of the secret itself, so that the Pod's spec never holds
    it. ``credentials_at`` says where credentials went.
    """
    provenance, chain_refs, chain = {}, [], []
    if pod.template_tag_id is not None:
        chain = template_chain(pod)
        fields, provenance = merged_fields(pod, chain)
        chain_refs = [version.reference for version in chain]
    else:
        fields = {name: getattr(pod, name) for name in MERGED_FIELDS}
    spec = {name: fields[name] if name in fields else getattr(pod, name) for name in SPEC_FIELDS}
    spec["security"] = merged_security([version.pod_definition for version in chain]) \
        if pod.template_tag_id is not None else {}

    values = ensure_credentials(pod).placeholders() if resolve_credentials else {}
    unresolved, withheld, credentials_at = set(), set(), {}

    def sub(text: str, location: str, *, reference: bool = False) -> str:
        if "<<" not in text:
            return text
        level = author_level(pod, location)

        def one(match):
            name = match.group(1)
            allowed = level >= PLACEHOLDER_LEVELS.get(name, PermissionLevel.ADMIN)
            if name in PLACEHOLDER_LEVELS and not allowed:
                withheld.add(f"{location}: {name}")
            if name in values and allowed:
                credentials_at.setdefault(location, set()).add(name)
                return f"$({CREDENTIAL_VARIABLE.format(name.upper())})" if reference else values[name]
            unresolved.add(name)
            return match.group(0)
        return PLACEHOLDER.sub(one, text)

    for name in ("command", "arguments"):
        if spec[name] is not None:
            spec[name] = [sub(s, name, reference=command_references) for s in spec[name]]
    spec["environment_variables"] = {k: sub(v, value_location("environment_variables", k))
                                     for k, v in (spec["environment_variables"] or {}).items()}
    spec["volume_mounts"] = {
        path: ({**m, "config_content": sub(m["config_content"], value_location("volume_mounts", path))}
               if m and m.get("config_content") else m)
        for path, m in (spec["volume_mounts"] or {}).items()
    }
    return DerivedSpec(spec=spec, unresolved=sorted(unresolved), provenance=provenance, chain=chain_refs,
                       credentials_at={k: sorted(v) for k, v in credentials_at.items()},
                       withheld=sorted(withheld))


def ensure_credentials(pod: Pod) -> PodCredentials:
    """The pod's credentials, generated now if the pod somehow has none (e.g. bulk-seeded)."""
    try:
        return pod.credentials
    except PodCredentials.DoesNotExist:
        pass
    creds = PodCredentials.generate(pod)
    try:
        with transaction.atomic():
            creds.save(force_insert=True)
    except IntegrityError:  # a concurrent request generated them first, or the pod was deleted
        creds = PodCredentials.objects.filter(pod=pod).first()
        if creds is None:
            raise Pod.DoesNotExist(f"pod {pod.pk} was deleted meanwhile") from None
    pod.credentials = creds
    return creds
