"""Every environment variable the settings read is listed in .env.example and the README, every
variable listed there is read, and the defaults they show are the settings' real defaults."""
import re
from pathlib import Path

import pytest

from tests.foundation.settings_probe import load_settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = (ROOT / "pods_project" / "settings.py").read_text()
READ_ELSEWHERE = {"PORT", "PODS_BACKGROUND_NICE"}  # read by `make run` (the Procfile), not by the settings
OIDC = {"OIDC_RP_CLIENT_ID": "pods", "OIDC_RP_CLIENT_SECRET": "s", "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp/a",
        "OIDC_OP_TOKEN_ENDPOINT": "https://idp/t", "OIDC_OP_USER_ENDPOINT": "https://idp/u",
        "OIDC_OP_JWKS_ENDPOINT": "https://idp/j"}
# Read in the source (every reader is `env.<type>("NAME", ...)`), so reads behind a condition count.
VARIABLES = sorted(set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', SETTINGS)) | READ_ELSEWHERE)


def _env_example() -> dict:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def _readme_variables() -> set:
    """Variables named in the first column of the README's configuration table."""
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"(`[A-Z][A-Z0-9_]+`(, )?)+", cells[0]):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]))
    return names


def _readme_defaults() -> dict:
    """The README's defaults where the cell holds only backticked literals, one per variable."""
    defaults = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"(`[A-Z][A-Z0-9_]+`(, )?)+", cells[0]):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        literals = re.findall(r"`([^`]*)`", cells[1])
        if len(names) == len(literals) and re.fullmatch(r"(`[^`]*`(, )?)+", cells[1]):
            defaults.update(zip(names, literals))
    return defaults


@pytest.fixture(scope="module")
def read_at_runtime():
    """What the settings actually read, with and without the conditional (OIDC) part."""
    plain, with_oidc = load_settings({}), load_settings(OIDC)
    assert plain.returncode == 0 and with_oidc.returncode == 0, plain.stderr + with_oidc.stderr
    return set(plain.read) | set(with_oidc.read)


def test_settings_read_variables(read_at_runtime):
    assert len(VARIABLES) > 30
    assert read_at_runtime <= set(VARIABLES), "a variable is read other than through env.<type>(\"NAME\")"


@pytest.mark.parametrize("name", VARIABLES)
def test_variable_is_in_env_example(name):
    assert re.search(rf"^{name}=", (ROOT / ".env.example").read_text(), re.M), f"{name} missing from .env.example"


@pytest.mark.parametrize("name", VARIABLES)
def test_variable_is_in_readme(name):
    assert f"`{name}`" in (ROOT / "README.md").read_text(), f"{name} missing from the README's table"


def test_every_documented_variable_is_read(read_at_runtime):
    for where, names in ((".env.example", set(_env_example())), ("the README", _readme_variables())):
        assert len(names) > 30
        unread = names - READ_ELSEWHERE - read_at_runtime
        assert not unread, f"{where} documents variables nothing reads: {sorted(unread)}"


def test_env_example_shows_the_defaults():
    """Loading .env.example as it is changes no setting: every value it shows is the default,
    and every empty one means "the default"."""
    defaults, documented = load_settings({}), load_settings(_env_example())
    assert defaults.returncode == 0 and documented.returncode == 0, defaults.stderr + documented.stderr
    differ = {k: (v, documented.settings.get(k)) for k, v in defaults.settings.items()
              if documented.settings.get(k) != v}
    assert not differ, f"settings that .env.example's values change (default, .env.example): {differ}"


def test_conditional_defaults_are_shown_too():
    assert load_settings(OIDC).settings["OIDC_USERNAME_CLAIM"] == _env_example()["OIDC_USERNAME_CLAIM"]


def test_readme_defaults_match_env_example():
    example, readme = _env_example(), _readme_defaults()
    compared = {name: (literal, example[name]) for name, literal in readme.items() if example.get(name)}
    assert len(compared) > 30
    assert {name: pair for name, pair in compared.items() if pair[0] != pair[1]} == {}
