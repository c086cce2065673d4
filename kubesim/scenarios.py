"""Container behaviour scenarios, chosen per container by image, annotation or rule.

Resolution order for each container (first match wins):

1. pod annotation ``kubesim.io/scenario`` (``kubesim.io/scenario.<container>``
   for one container);
2. rules added through the control API / handle that name an image, namespace
   or pod (newest first);
3. the image name: ``[registry/]kubesim/<scenario>[:tag]``, or any image
   containing ``doesnotexist`` (fails to pull);
4. a rule without selectors (changes the default for every pod);
5. ``happy``.

Timing annotations override the scenario defaults: ``kubesim.io/start-seconds``
(ContainerCreating duration), ``kubesim.io/run-seconds`` (time until the
container exits), ``kubesim.io/exit-code`` and ``kubesim.io/stop-seconds``
(time to stop after SIGTERM).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace

ANNOTATION = "kubesim.io/scenario"


@dataclass(frozen=True)
class Scenario:
    """How one container behaves on the simulated node."""

    name: str
    start_seconds: float = 2.0        # scheduled -> running (sandbox, pull, create)
    run_seconds: float | None = None  # running -> exit; None runs until deleted
    exit_code: int = 0
    oom: bool = False                 # terminated reason OOMKilled instead of Error
    pull_error: bool = False          # ErrImagePull / ImagePullBackOff forever
    unschedulable: bool = False       # the scheduler never places the pod
    stop_seconds: float = 0.5         # SIGTERM -> exit (capped by the grace period)

    @property
    def exit_reason(self) -> str:
        """Terminated reason a real kubelet reports for this exit."""
        if self.oom:
            return "OOMKilled"
        return "Completed" if self.exit_code == 0 else "Error"


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("happy"),
    Scenario("crashloop", run_seconds=3.0, exit_code=1),
    Scenario("oom", run_seconds=3.0, exit_code=137, oom=True),
    Scenario("imagepull-error", pull_error=True),
    Scenario("completes", run_seconds=5.0, exit_code=0),
    Scenario("fails", run_seconds=5.0, exit_code=1),
    Scenario("slow-start", start_seconds=60.0),
    Scenario("unschedulable", unschedulable=True),
    Scenario("unready"),     # runs; its readiness probes fail (kubesim.probes)
    Scenario("unhealthy"),   # runs; its liveness probes fail, so the kubelet kills it
)}


def image_repository(image: str) -> str:
    """Image reference without tag or digest (``docker.io/kubesim/oom:1`` -> ``docker.io/kubesim/oom``)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)
    if ":" in last[-1]:
        last[-1] = last[-1].split(":", 1)[0]
    return "/".join(last)


def scenario_for_image(image: str) -> Scenario | None:
    """The scenario an image name asks for, if any."""
    if "doesnotexist" in image:
        return SCENARIOS["imagepull-error"]
    repo = image_repository(image)
    for name, scenario in SCENARIOS.items():
        if repo == f"kubesim/{name}" or repo.endswith(f"/kubesim/{name}"):
            return scenario
    return None


@dataclass(frozen=True)
class Rule:
    """A scenario override registered through the control API."""

    scenario: str
    image: str | None = None      # glob on the full image, or its repository
    namespace: str | None = None  # glob
    pod: str | None = None        # glob on the pod name

    def specific(self) -> bool:
        """Whether the rule selects anything (otherwise it sets the default)."""
        return any((self.image, self.namespace, self.pod))

    def matches(self, namespace: str, pod: str, image: str) -> bool:
        """Whether this rule applies to a container."""
        if self.namespace and not fnmatch.fnmatchcase(namespace, self.namespace):
            return False
        if self.pod and not fnmatch.fnmatchcase(pod, self.pod):
            return False
        if self.image and not (fnmatch.fnmatchcase(image, self.image)
                               or fnmatch.fnmatchcase(image_repository(image), self.image)):
            return False
        return True


def lookup(name: str) -> Scenario:
    """Scenario by name; ``ValueError`` listing the valid names otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of "
                         f"{', '.join(sorted(SCENARIOS))}") from None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def resolve(rules: list[Rule], namespace: str, pod: str, annotations: dict, container: str,
            image: str) -> Scenario:
    """Pick the scenario for one container (see module docstring for the order)."""
    chosen: Scenario | None = None
    by_annotation = annotations.get(f"{ANNOTATION}.{container}") or annotations.get(ANNOTATION)
    if by_annotation in SCENARIOS:
        chosen = SCENARIOS[by_annotation]
    if chosen is None:
        for rule in reversed(rules):
            if rule.specific() and rule.matches(namespace, pod, image):
                chosen = SCENARIOS[rule.scenario]
                break
    if chosen is None:
        chosen = scenario_for_image(image)
    if chosen is None:
        default = next((r for r in reversed(rules) if not r.specific()), None)
        chosen = SCENARIOS[default.scenario] if default else SCENARIOS["happy"]
    overrides = {}
    for key, attr in (("start-seconds", "start_seconds"), ("run-seconds", "run_seconds"),
                      ("stop-seconds", "stop_seconds")):
        value = _float(annotations.get(f"kubesim.io/{key}"))
        if value is not None and value >= 0:
            overrides[attr] = value
    code = annotations.get("kubesim.io/exit-code")
    if code is not None and re.fullmatch(r"\d{1,3}", code):
        overrides["exit_code"] = int(code)
    return replace(chosen, **overrides) if overrides else chosen
