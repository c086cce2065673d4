"""Load the project's settings in a child process with a given environment, as a process starts.

``load_settings(env)`` runs ``django.setup()`` with ``pods_project.settings`` and nothing but
``env`` (plus PATH, and a HOME of its own so no ``~/.kube/config`` is found) and returns the
outcome: the settings' values and the variables the settings read, or the error that stopped
start-up.
"""
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import environ
# The settings read a developer's .env from the checkout; the probe loads exactly the given environment.
environ.FileAwareEnv.read_env = classmethod(lambda cls, *args, **kwargs: None)
import django
django.setup()
from django.conf import settings
from pods_project import settings as module
values = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
json.dump({"settings": values, "read": sorted(module.env.read)}, sys.stdout, default=repr)
"""


@dataclass
class Loaded:
    returncode: int
    settings: dict
    read: list
    stderr: str

    @property
    def error(self) -> str:
        """The last line of the traceback: ``django.core.exceptions.ImproperlyConfigured: …``."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def load_settings(env: dict) -> Loaded:
    with tempfile.TemporaryDirectory() as home:
        child = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                 "DJANGO_SETTINGS_MODULE": "pods_project.settings", **env}
        proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=child, capture_output=True,
                              text=True, timeout=120)
    if proc.returncode:
        return Loaded(proc.returncode, {}, [], proc.stderr)
    out = json.loads(proc.stdout)
    return Loaded(0, out["settings"], out["read"], proc.stderr)
