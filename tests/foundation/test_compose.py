"""docker-compose.yml cannot run here (no Docker engine); keep it honest by reading it, and by
loading the settings with each service's environment as Compose would resolve it."""
import re
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.deploy.manifests import procfile_commands
from tests.foundation.settings_probe import load_settings

ROOT = Path(__file__).resolve().parents[2]
# What the operator provides (the compose file's header and the README say so); nothing else.
OPERATOR_ENV = {"PODS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "DJANGO_SECRET_KEY": "Compose-operator-secret-key-with-more-than-50-characters-0123456789"}


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "watcher", "k3s"} <= set(services)


def test_web_worker_beat_share_one_image_built_from_the_dockerfile():
    services = _compose()["services"]
    assert (ROOT / "Dockerfile").is_file()
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert len(images) == 1
    assert all(services[name]["build"] == "." for name in ("web", "worker", "beat"))


def test_compose_commands_match_the_procfile():
    services, procfile = _compose()["services"], procfile_commands()
    for name in ("web", "worker", "beat", "watcher"):
        compose_cmd = services[name]["command"]
        proc_cmd = procfile[name]
        # The same program and the same entry point (modulo the venv path).
        assert Path(proc_cmd[0]).name == compose_cmd[0]
        assert proc_cmd[1:3] == compose_cmd[1:3]


def test_worker_and_beat_mount_the_k3s_kubeconfig():
    services = _compose()["services"]
    for name in ("worker", "beat", "watcher"):
        assert services[name]["environment"]["KUBECONFIG"].startswith("/kube/")
        assert any(v.startswith("kubeconfig:/kube") for v in services[name]["volumes"])
    # The web process never needs cluster credentials.
    assert "KUBECONFIG" not in services["web"].get("environment", {})
    assert not services["web"].get("volumes")


def test_compose_database_matches_settings_shape():
    env = _compose()["x-app"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["DJANGO_DEBUG"] == "false"


# --- Each service's environment, resolved as Compose does ------------------------------------------
# YAML anchors and merge keys are resolved by the YAML loader; interpolation follows the Compose
# spec: $$ escapes, ${VAR}, $VAR, ${VAR:-default}/${VAR-default}, ${VAR:?error}/${VAR?error},
# ${VAR:+other}/${VAR+other} (":" also treats an empty value as unset).
_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)"
                       r"(?:(?P<op>:?[-?+])(?P<arg>(?:[^{}]|\{[^{}]*\})*))?\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(Exception):
    """Compose refuses to start: a ${VAR:?message} variable is unset."""

    def __init__(self, name, message):
        super().__init__(f"required variable {name} is missing a value: {message}")
        self.name, self.message = name, message


def interpolate(text: str, host: dict) -> str:
    def substitute(match):
        if match["escaped"]:
            return "$"
        name, op, arg = match["braced"] or match["named"], match["op"], match["arg"] or ""
        value = host.get(name)
        if op is None:
            return value or ""
        is_set = value is not None and not (op.startswith(":") and value == "")
        if op.endswith("-"):
            return value if is_set else interpolate(arg, host)
        if op.endswith("?"):
            if not is_set:
                raise MissingVariable(name, arg)
            return value
        return interpolate(arg, host) if is_set else ""

    return _VARIABLE.sub(substitute, text)


def _resolved(node, host):
    if isinstance(node, str):
        return interpolate(node, host)
    if isinstance(node, dict):
        return {key: _resolved(value, host) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(value, host) for value in node]
    return node


def service_environments(host: dict) -> dict:
    """{service: the environment its container gets} for the services built from this repository."""
    envs = {}
    for name, service in _resolved(_compose(), host)["services"].items():
        if "build" not in service:
            continue
        env = {}
        for path in service.get("env_file") or []:
            for line in (ROOT / path).read_text().splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    key, _, value = line.partition("=")
                    env[key.strip()] = value
        entries = service.get("environment") or {}
        if isinstance(entries, list):  # ["NAME=value", "NAME"] (the latter passes the host's value)
            entries = dict(e.split("=", 1) if "=" in e else (e, host.get(e)) for e in entries)
        env.update({key: "" if value is None else str(value) for key, value in entries.items()})
        envs[name] = env
    return envs


APP_SERVICES = sorted(service_environments(OPERATOR_ENV))


@pytest.mark.parametrize("name", sorted(OPERATOR_ENV))
def test_compose_refuses_to_start_without_the_operators_secrets(name):
    given = {key: value for key, value in OPERATOR_ENV.items() if key != name}
    with pytest.raises(MissingVariable) as refused:
        service_environments(given)
    assert refused.value.name == name
    assert name in refused.value.message, "Compose prints the message: it must say what to set"
    with pytest.raises(MissingVariable):
        service_environments({**given, name: ""})


def test_variables_the_operator_must_set_are_documented():
    required = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", (ROOT / "docker-compose.yml").read_text()))
    assert required == set(OPERATOR_ENV)
    header = "".join(line for line in (ROOT / "docker-compose.yml").read_text().splitlines(True)
                     if line.startswith("#"))
    for name in required:
        assert name in header, f"the compose file's header must say to set {name}"
        assert f"`{name}`" in (ROOT / "README.md").read_text()


def test_app_services_are_the_processes():
    assert set(APP_SERVICES) == {"migrate", "web", "worker", "sweeper", "bulk", "beat", "watcher"}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_environment_loads_the_settings(service):
    env = service_environments(OPERATOR_ENV)[service]
    loaded = load_settings(env)
    assert loaded.returncode == 0, f"{service} would not start: {loaded.error}"
    assert loaded.settings["DEBUG"] is False
    assert loaded.settings["PODS_ENCRYPTION_KEYS"] == [OPERATOR_ENV["PODS_ENCRYPTION_KEYS"]]
    unread = set(env) - set(loaded.read)
    assert not unread, f"{service} sets variables the settings never read: {sorted(unread)}"


def test_urls_point_at_the_compose_services():
    compose = _compose()["services"]
    postgres = compose["postgres"]["environment"]
    for service, env in service_environments(OPERATOR_ENV).items():
        loaded_db = re.fullmatch(r"postgres://(\w+):(\w+)@(\w+):5432/(\w+)", env["DATABASE_URL"])
        assert loaded_db, env["DATABASE_URL"]
        user, password, host, name = loaded_db.groups()
        assert (user, password, name) == ("postgres", postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
        assert host in compose and env["REDIS_URL"].split("//")[1].split(":")[0] in compose
