"""Generate a kubeconfig the real ``kubernetes`` client and kubectl accept."""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def kubeconfig_dict(server: str, token: str | None, namespace: str = "default",
                    context: str = "kubesim") -> dict:
    """The kubeconfig as a dict (plain HTTP, bearer-token user)."""
    user: dict = {"token": token} if token else {}
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context,
                                                   "namespace": namespace}}],
        "current-context": context,
    }


def write_kubeconfig(path: str | Path, server: str, token: str | None,
                     namespace: str = "default", context: str = "kubesim") -> Path:
    """Write the kubeconfig (mode 0600, parent directories created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(kubeconfig_dict(server, token, namespace, context), sort_keys=False)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path
