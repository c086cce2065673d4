"""``python -m kubesim`` and the wall-clock mode, where the kubelet progresses on its own."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client, config

import kubesim

from .helpers import pod_manifest, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_server(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "kubesim", "--port", "0", "--kubeconfig",
                             str(kubeconfig), "--speed", "20", "--log-level", "WARNING"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: kubeconfig.exists() or proc.poll() is not None)
        assert proc.poll() is None, proc.stderr.read().decode()
        yield proc, kubeconfig
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def test_cli_serves_and_kubelet_runs_in_wall_time(cli_server):
    proc, kubeconfig = cli_server
    api = config.new_client_from_config(config_file=str(kubeconfig))
    core = client.CoreV1Api(api)
    core.create_namespaced_pod("default", pod_manifest("wall"))
    wait_for(lambda: core.read_namespaced_pod("wall", "default").status.phase == "Running")
    api.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_start_in_thread_wall_clock(tmp_path):
    with kubesim.start_in_thread(clock="wall", speed=50) as sim:
        api = config.new_client_from_config(
            config_file=str(sim.write_kubeconfig(tmp_path / "kc")))
        core = client.CoreV1Api(api)
        core.create_namespaced_pod("default", pod_manifest("w", image="kubesim/completes",
                                                           restart_policy="Never"))
        wait_for(lambda: core.read_namespaced_pod("w", "default").status.phase == "Succeeded")
        before = sim.now()
        sim.advance(3600)  # advancing still works in wall mode
        assert (sim.now() - before).total_seconds() >= 3600
        api.close()
