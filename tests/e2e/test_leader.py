"""A killed watcher leader: the standby takes the lease over within seconds, and everything
converges with exactly one Pod per running pod."""
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e]


def test_killed_leader_is_replaced_by_the_standby(tapis, stack, cluster_pods, settings):
    from workers.lease import Lease

    lease = Lease("watch_cluster")
    first = wait_for(lease.current, 15, "a watcher to take the lease")
    log = stack.logdir / "watcher-standby.log"
    with open(log, "wb") as out:
        standby = subprocess.Popen([sys.executable, "manage.py", "watch_cluster"], cwd=ROOT,
                                   env=stack._env("watcher"), stdout=out, stderr=subprocess.STDOUT)
    try:
        tapis.pods.create_pod(pod_id="before", image="kubesim/web:1")
        wait_for(lambda: tapis.pods.get_pod(pod_id="before").status == "AVAILABLE", 30, "before AVAILABLE")
        assert lease.current()["token"] == first["token"], "the standby must not take a held lease"
        leader_pid = int(first["holder"].split(":")[1])
        assert leader_pid == stack.watcher.pid
        os.kill(leader_pid, signal.SIGKILL)  # no clean stop: the lease is left to expire
        stack.watcher.wait(10)
        killed_at = time.monotonic()
        taken = wait_for(lambda: (c := lease.current()) and c["token"] > first["token"] and c, 30,
                         "the standby to take over")
        took = time.monotonic() - killed_at
        assert int(taken["holder"].split(":")[1]) == standby.pid
        assert took < settings.PODS_LEADER_LEASE_SECONDS + 3, took
        tapis.pods.create_pod(pod_id="after", image="kubesim/web:1")
        wait_for(lambda: tapis.pods.get_pod(pod_id="after").status == "AVAILABLE", 30, "after AVAILABLE")
        tapis.pods.stop_pod(pod_id="before")
        wait_for(lambda: tapis.pods.get_pod(pod_id="before").status == "STOPPED", 30, "before STOPPED")
        assert cluster_pods() == ["pods-local-dev-after"]
        assert b"acquired" in log.read_bytes()
    finally:
        standby.terminate()
        standby.wait(10)
