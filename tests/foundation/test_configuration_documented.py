"""Every environment variable the settings read is listed in .env.example and the README."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = (ROOT / "pods_project" / "settings.py").read_text()
READ_ELSEWHERE = {"DATABASE_URL", "DJANGO_SECRET_KEY", "PORT"}  # env.db, the production guard, make
VARIABLES = sorted(set(re.findall(r'env\.\w+\("([A-Z][A-Z0-9_]+)"', SETTINGS)) | READ_ELSEWHERE)


def test_settings_read_variables():
    assert len(VARIABLES) > 30


@pytest.mark.parametrize("name", VARIABLES)
def test_variable_is_in_env_example(name):
    assert re.search(rf"^{name}=", (ROOT / ".env.example").read_text(), re.M), f"{name} missing from .env.example"


@pytest.mark.parametrize("name", VARIABLES)
def test_variable_is_in_readme(name):
    assert f"`{name}`" in (ROOT / "README.md").read_text(), f"{name} missing from the README's table"
