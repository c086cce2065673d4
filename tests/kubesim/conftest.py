"""Fixtures for the kubesim contract tests: one in-process simulator per test session.

Every test gets a freshly reset cluster (``sim``) and a real ``CoreV1Api`` built
from a generated kubeconfig with ``new_client_from_config`` (no global config).
"""

from __future__ import annotations

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

