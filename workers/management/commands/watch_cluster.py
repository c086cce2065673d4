"""Run the cluster watcher (the informer, under the leader lease) in the foreground."""
import signal
import threading

from django.core.management.base import BaseCommand

from workers.watch import watch_forever


class Command(BaseCommand):
    help = ("Follow managed Pods, Services and Warning events (list + watch) and apply each change "
            "within about a second. Several may run: one holds the leader lease and acts, the others "
            "stand by and take over when it dies. Runs until stopped (SIGTERM or Ctrl-C).")

    def handle(self, *args, **options):
        self.stdout.write("Watching the cluster (the beat sweep remains the safety net).")
        stop = threading.Event()
        # A clean stop releases the lease at once, so a standby need not wait for it to expire.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            watch_forever(stop)
        except KeyboardInterrupt:
            stop.set()
