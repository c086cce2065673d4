"""docker-compose.yml (read, not run: no Docker engine here): services come back after a crash,
and Redis keeps its queue on disk."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LONG_RUNNING = ("postgres", "redis", "k3s", "web", "worker", "sweeper", "bulk", "beat", "watcher")


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_long_running_services_restart_and_the_migration_does_not():
    services = compose()["services"]
    for name in LONG_RUNNING:
        assert services[name].get("restart") == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"


def test_redis_appends_every_write_to_a_volume():
    config = compose()
    redis = config["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] in ("everysec", "always")
    volume = next(v for v in redis["volumes"] if v.endswith(":/data"))
    assert volume.split(":")[0] in config["volumes"]


def test_the_readme_has_a_compose_quick_start():
    readme = (ROOT / "README.md").read_text()
    assert "docker compose up --build -d" in readme
    assert "cannot run it" in readme  # this development machine has no Docker engine
