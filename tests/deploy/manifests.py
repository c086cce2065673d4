"""The rendered deployment: ``kubectl kustomize`` of deploy/, as an operator applies it."""
import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
SERVICE_NAMESPACE = "pods-system"


@functools.cache
def procfile_commands() -> dict[str, list[str]]:
    """The Procfile's processes: name -> the command's words (make run's ``nice -n N`` aside)."""
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = re.sub(r"^\s*nice -n \S+ ", "", command).split()
    return entries


def _render(directory: str) -> tuple:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with its built-in kustomize) is needed to render deploy/")
    result = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(path: str) -> list[dict]:
    """Objects of ``deploy/<path>`` (e.g. ``overlays/production``), freshly copied."""
    import copy

    return copy.deepcopy(list(_render(str(DEPLOY / path))))


def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def named(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def config_data(objects) -> dict:
    """The settings in ConfigMap pods-config (its name carries a hash suffix)."""
    found = [o for o in of_kind(objects, "ConfigMap") if o["metadata"]["name"].startswith("pods-config-")]
    assert len(found) == 1
    return found[0]["data"]


def workloads(objects):
    """(object, pod spec) of every Deployment and Job."""
    return [(o, o["spec"]["template"]["spec"]) for o in objects if o["kind"] in ("Deployment", "Job")]


def settings_variables() -> set[str]:
    """Every environment variable pods_project/settings.py reads (as the configuration test finds them)."""
    text = (ROOT / "pods_project" / "settings.py").read_text()
    names = set(re.findall(r'env\.\w+\("([A-Z][A-Z0-9_]+)"', text))
    names |= set(re.findall(r'_required_in_production\("([A-Z][A-Z0-9_]+)"', text))
    return names
