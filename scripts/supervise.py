#!/usr/bin/env python3
"""Run the processes of a Procfile in the foreground, restarting any that exits; Ctrl-C stops all.

    scripts/supervise.py [-f Procfile] [--stop-timeout S] [--max-backoff S] [name ...]

Why not honcho (which `make run` used): when one process exits, honcho stops all the others, so a
worker that died on a Redis reconnect took the whole service down with it, and nothing
restarted anything. supervisord and circus restart, but bring their own daemon, config format
and control sockets for what is here ~150 lines of standard library.

Each process runs under ``/bin/sh -c`` (Procfile commands may use ``${VAR:-default}``) in a
process group of its own; its output is prefixed with its name. A process that exits while the
supervisor is running is started again after a pause that doubles from 1 s up to
``--max-backoff`` and falls back to 1 s once it has stayed up for a minute. SIGINT or SIGTERM
sends SIGTERM to every group, waits ``--stop-timeout`` seconds, then SIGKILLs what is left.
Only the standard library: it must start before the virtualenv's packages are trusted.
"""
import argparse
import os
import signal
import subprocess
import sys
import threading
import time

STABLE_AFTER = 60.0  # seconds up after which a restart counts as the first again


def read_procfile(path):
    """``{name: command}`` in file order; blank lines and comments ignored."""
    entries = {}
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, command = line.partition(":")
            if not sep or not name.strip() or not command.strip():
                raise SystemExit(f"{path}:{number}: expected 'name: command', got {line!r}")
            entries[name.strip()] = command.strip()
    return entries


class Supervisor:
    def __init__(self, commands, *, stop_timeout=10.0, max_backoff=30.0, out=sys.stdout):
        self.commands, self.stop_timeout, self.max_backoff, self.out = commands, stop_timeout, max_backoff, out
        self.width = max(len(n) for n in commands)
        self.procs, self.started_at, self.backoff, self.restarts = {}, {}, {}, {}
        self.stopping = threading.Event()
        self._write_lock = threading.Lock()

    def say(self, name, text):
        with self._write_lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name.ljust(self.width)} | {text}\n")
            self.out.flush()

    def _pump(self, name, stream):
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def start(self, name):
        proc = subprocess.Popen(["/bin/sh", "-c", self.commands[name]], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name], self.started_at[name] = proc, time.monotonic()
        threading.Thread(target=self._pump, args=(name, proc.stdout), daemon=True).start()
        self.say(name, f"started with pid {proc.pid}")

    def run(self):
        for name in self.commands:
            self.start(name)
        pending = {}  # name -> monotonic time of its restart
        while not self.stopping.is_set():
            now = time.monotonic()
            for name, proc in list(self.procs.items()):
                if name in pending or proc.poll() is None:
                    continue
                up = now - self.started_at[name]
                delay = 1.0 if up >= STABLE_AFTER else min(self.max_backoff, self.backoff.get(name, 0.5) * 2)
                self.backoff[name] = delay
                self.restarts[name] = self.restarts.get(name, 0) + 1
                self.say(name, f"exited with code {proc.returncode} after {up:.1f} s; restarting in {delay:.0f} s")
                pending[name] = now + delay
            for name, when in list(pending.items()):
                if now >= when and not self.stopping.is_set():
                    del pending[name]
                    self.start(name)
            self.stopping.wait(0.2)
        self.stop_all()

    def stop_all(self):
        live = {n: p for n, p in self.procs.items() if p.poll() is None}
        for name, proc in live.items():
            self.say(name, "stopping (SIGTERM)")
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for name, proc in live.items():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(name, f"still running after {self.stop_timeout:.0f} s: SIGKILL")
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        self.say("supervise", "all stopped")


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--procfile", default="Procfile")
    parser.add_argument("--stop-timeout", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("--max-backoff", type=float, default=30.0, help="longest pause before a restart")
    parser.add_argument("names", nargs="*", help="processes to run (default: all)")
    args = parser.parse_args(argv)
    commands = read_procfile(args.procfile)
    unknown = [n for n in args.names if n not in commands]
    if unknown:
        parser.error(f"not in {args.procfile}: {', '.join(unknown)} (it has {', '.join(commands)})")
    supervisor = Supervisor({n: commands[n] for n in (args.names or commands)},
                            stop_timeout=args.stop_timeout, max_backoff=args.max_backoff)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: supervisor.stopping.set())
    supervisor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
