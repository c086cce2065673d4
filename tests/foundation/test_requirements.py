"""Every pinned dependency is used: imported somewhere in the repository, or run as a program."""
import ast
import re
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "staticfiles", "__pycache__", ".git", "node_modules"}
# Dependencies used other than by an import: (file, text that shows the use).
USED_WITHOUT_IMPORT = {
    "pytest-django": ("pytest.ini", "DJANGO_SETTINGS_MODULE"),
    "whitenoise": ("pods_project/settings.py", '"whitenoise.middleware.WhiteNoiseMiddleware"'),
    "import-linter": ("Makefile", "bin/lint-imports"),  # the layering contracts
    "pytest-xdist": ("Makefile", "PYTEST_ARGS ?= -n 2"),  # make test's two processes
    "drf-spectacular-sidecar": ("pods_project/settings.py", '"drf_spectacular_sidecar"'),  # an app: its static files
    "python-json-logger": ("pods_project/settings.py", '"pythonjsonlogger.json.JsonFormatter"'),  # LOG_FORMAT=json
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> list:
    names = []
    for path in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / path).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                names.append(_normalise(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0]))
    return names


def _imported_modules() -> set:
    modules = set()
    for path in ROOT.rglob("*.py"):
        if SKIP_DIRS & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


@pytest.fixture(scope="module")
def imported_distributions():
    by_module = packages_distributions()
    modules = _imported_modules()
    return {_normalise(dist) for module in modules for dist in by_module.get(module, ())}


@pytest.mark.parametrize("requirement", _requirements())
def test_requirement_is_used(requirement, imported_distributions):
    if requirement in USED_WITHOUT_IMPORT:
        path, use = USED_WITHOUT_IMPORT[requirement]
        assert use in (ROOT / path).read_text(), f"{requirement} is no longer used by {path}"
    else:
        assert requirement in imported_distributions, f"{requirement} is pinned but nothing imports it"
