"""docker-compose.yml cannot run here (no Docker engine); keep it honest by reading it."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _procfile():
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.split()
    return entries


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
    services, procfile = _compose()["services"], _procfile()
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
