"""The pod as it will run: the spec with its placeholders.

Until the templates feature brings template merging, deriving a pod is only placeholder
substitution: ``<<TAPIS_user_password>>`` (and upstream's ``<<tapissecret_user_password>>``)
in command, arguments, environment values and ephemeral mount contents are replaced from the
pod's credentials. The API shows them unresolved unless a pod ADMIN asks; the worker resolves
them when it builds the Kubernetes objects.
"""
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from pods.models import Pod, PodCredentials

PLACEHOLDER = re.compile(r"<<(?:TAPIS_|tapissecret_)([A-Za-z0-9_]+)>>")

SPEC_FIELDS = ("image", "template", "command", "arguments", "environment_variables", "volume_mounts",
               "networking", "resources", "compute_queue", "time_to_stop_default",
               "time_to_stop_instance")


@dataclass
class DerivedSpec:
    spec: dict
    unresolved: list[str]  # placeholder names left in place, sorted


def derived_spec(pod: Pod, *, resolve_credentials: bool = False) -> DerivedSpec:
    """The spec fields of ``pod`` with placeholders resolved (or left, and listed)."""
    values = {}
    if resolve_credentials:
        values = ensure_credentials(pod).placeholders()
    unresolved = set()

    def sub(text: str) -> str:
        def one(match):
            name = match.group(1)
            if name in values:
                return values[name]
            unresolved.add(name)
            return match.group(0)
        return PLACEHOLDER.sub(one, text)

    spec = {name: getattr(pod, name) for name in SPEC_FIELDS}
    spec["command"] = [sub(s) for s in pod.command] if pod.command is not None else None
    spec["arguments"] = [sub(s) for s in pod.arguments] if pod.arguments is not None else None
    spec["environment_variables"] = {k: sub(v) for k, v in (pod.environment_variables or {}).items()}
    spec["volume_mounts"] = {
        path: ({**m, "config_content": sub(m["config_content"])} if m and m.get("config_content") else m)
        for path, m in (pod.volume_mounts or {}).items()
    }
    return DerivedSpec(spec=spec, unresolved=sorted(unresolved))


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
    except IntegrityError:  # a concurrent request generated them first
        creds = PodCredentials.objects.get(pod=pod)
    pod.credentials = creds
    return creds
