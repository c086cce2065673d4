"""The docs match the code where a test can say so cheaply."""
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import get_commands

from tests.foundation.settings_probe import load_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = {path: path.read_text() for path in [ROOT / "README.md", ROOT / "Makefile", ROOT / "bench" / "README.md",
                                              *sorted((ROOT / "docs").glob("*.md"))] if path.is_file()}


def our_commands() -> dict:
    """{command: app} for the management commands of this project's apps, wherever they live."""
    ours = {config.name for config in apps.get_app_configs()
            if Path(config.path).is_relative_to(ROOT) and ".venv" not in Path(config.path).parts}
    return {name: app for name, app in get_commands().items() if app in ours}


def test_commands_of_our_apps_are_found():
    assert {"create_tenant", "watch_cluster", "install_catalog"} <= set(our_commands())
    assert "migrate" not in our_commands()


@pytest.mark.parametrize("command", sorted(our_commands()))
def test_every_command_of_ours_is_in_the_readme_table(command):
    assert re.search(rf"^\| `manage\.py {command}(?: [^`]*)?` \| \S", README, re.M), \
        f"manage.py {command} is missing from the README's command table"


def test_paths_the_docs_mention_exist():
    """Files and directories of the repository named in the README, the Makefile and docs/."""
    pattern = re.compile(r"(?<![\w./-])((?:bench|docs|pods|workers|kubesim|templates_catalog|pods_project|tests|"
                         r"scripts|static|\.ci)/(?:[\w-]+/)*(?:[\w-]+\.\w+|[\w-]+/))")
    missing = {f"{path.relative_to(ROOT)}: {name}" for path, text in DOCS.items()
               for name in pattern.findall(text) if not (ROOT / name).exists()}
    assert not missing, sorted(missing)


def test_bench_readme_covers_every_script_and_option():
    text = (ROOT / "bench" / "README.md").read_text()
    for script in sorted((ROOT / "bench").glob("*.py")):
        assert f"`{script.name}`" in text, f"bench/README.md does not describe {script.name}"
        for option in re.findall(r'add_argument\(\s*"(--[\w-]+)"', script.read_text()):
            assert f"`{option}`" in text, f"bench/README.md does not document {script.name} {option}"


def test_image_allowlist_defaults_are_the_documented_ones():
    """docs/pods-api.md: "`PODS_IMAGE_ALLOWLIST` defaults to … in development … nothing in production"."""
    text = " ".join((ROOT / "docs" / "pods-api.md").read_text().split())
    sentence = re.search(r"`PODS_IMAGE_ALLOWLIST` defaults to (.*?) in development \(`DJANGO_DEBUG` on\) and to"
                         r" nothing in production", text)
    assert sentence, "docs/pods-api.md must state PODS_IMAGE_ALLOWLIST's defaults"
    documented = set(re.findall(r"`([^`]+)`", sentence[1]))
    development = load_settings({})
    production = load_settings({"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "h",
                                "DJANGO_SECRET_KEY": "a-production-secret-key-of-fifty-characters-0123456789",
                                "PODS_ENCRYPTION_KEYS": "a-production-passphrase-0123456789"})
    assert documented == set(development.settings["PODS_IMAGE_ALLOWLIST"])
    assert production.settings["PODS_IMAGE_ALLOWLIST"] == []
