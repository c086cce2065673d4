"""Fixtures for the kubesim contract tests: one in-process simulator per test session.

Every test gets a freshly reset cluster (``sim``) and a real ``CoreV1Api`` built
from a generated kubeconfig with ``new_client_from_config`` (no global config).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from kubernetes import client, config

import kubesim


@pytest.fixture(scope="session")
def kubesim_server():
    """A kubesim server on a free port with a manual clock, for the whole session."""
    sim = kubesim.start_in_thread(port=0, seed=1234)
    yield sim
    sim.stop()


@pytest.fixture
def sim(kubesim_server):
    """The session server, reset to a fresh cluster for this test."""
    kubesim_server.reset()
    yield kubesim_server
    kubesim_server.clear_faults()


@pytest.fixture
def kubeconfig_path(sim, tmp_path):
    """A kubeconfig file for the simulator."""
    return sim.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def api_client(kubeconfig_path):
    """A ``kubernetes.client.ApiClient`` configured from the kubeconfig."""
    api = config.new_client_from_config(config_file=str(kubeconfig_path))
    yield api
    api.close()


@pytest.fixture
def core(api_client):
    """``CoreV1Api`` talking to the simulator."""
    return client.CoreV1Api(api_client)



def _install_kubectl() -> str | None:
    """Return the kubectl path, installing Debian's ``kubernetes-client`` if needed."""
    found = shutil.which("kubectl")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "kubernetes-client"], env=env,
                       capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shutil.which("kubectl")


@pytest.fixture(scope="session")
def kubectl_path():
    path = _install_kubectl()
    if path is None:
        pytest.skip("kubectl is not on PATH and `apt-get install kubernetes-client` failed")
    return path


@pytest.fixture
def kubectl(kubectl_path, kubeconfig_path, tmp_path):
    env = dict(os.environ, KUBECONFIG=str(kubeconfig_path), HOME=str(tmp_path))

    def run(*args, check=True, input=None):
        result = subprocess.run([kubectl_path, *args], env=env, capture_output=True, text=True,
                                timeout=60, input=input)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return run
