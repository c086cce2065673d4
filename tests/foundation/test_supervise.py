"""scripts/supervise.py, which `make run` runs the Procfile under: a process that exits is
started again (with a growing pause), the others keep running, and SIGTERM stops them all."""
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

SUPERVISE = ROOT / "scripts" / "supervise.py"


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_process_that_exits_is_restarted_and_the_others_keep_running(tmp_path):
    marker = tmp_path / "steady.pid"
    (tmp_path / "Procfile").write_text(
        "crasher: echo crasher-up; exit 3\n"
        f"steady: echo $$ > {marker}; exec sleep 600\n")
    log = tmp_path / "out.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(SUPERVISE), "-f", str(tmp_path / "Procfile"), "--max-backoff", "1"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: log.read_text().count("crasher-up") >= 3, 20, "three starts of the crashing process")
        text = log.read_text()
        assert "crasher | exited with code 3" in text.replace("  ", " ")
        assert "restarting in" in text
        steady_pid = int(marker.read_text())
        assert text.count("steady  | started with pid") == 1  # never restarted: it never exited
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        with pytest.raises(ProcessLookupError):  # the steady process was stopped with the rest
            import os

            os.kill(steady_pid, 0)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_killed_process_is_started_again(tmp_path):
    (tmp_path / "Procfile").write_text("sleeper: exec sleep 600\n")
    log = tmp_path / "out.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(SUPERVISE), "-f", str(tmp_path / "Procfile")],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: "started with pid" in log.read_text(), 10, "the first start")
        first = int(log.read_text().split("started with pid ")[1].split()[0])
        import os

        os.killpg(first, signal.SIGKILL)
        _wait(lambda: log.read_text().count("started with pid") == 2, 10, "the restart")
        assert "exited with code -9" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def test_unknown_process_names_are_refused(tmp_path):
    (tmp_path / "Procfile").write_text("web: sleep 1\n")
    done = subprocess.run([sys.executable, str(SUPERVISE), "-f", str(tmp_path / "Procfile"), "nope"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "not in" in done.stderr and "web" in done.stderr


def test_make_run_uses_the_supervisor_for_every_procfile_process():
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert "scripts/supervise.py -f Procfile" in run_sh and "honcho" not in run_sh.split("\n", 4)[-1]
    procfile = {line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()}
    assert {"web", "worker", "sweeper", "bulk", "beat", "watcher"} <= procfile
