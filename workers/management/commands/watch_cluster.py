"""Run the cluster watch (the sweep's fast path) in the foreground."""
from django.core.management.base import BaseCommand

from workers.watch import watch_forever


class Command(BaseCommand):
    help = "Follow changes to managed Pods and apply them within about a second (runs until stopped)."

    def handle(self, *args, **options):
        self.stdout.write("Watching managed Pods (the periodic sweep remains the source of truth).")
        try:
            watch_forever()
        except KeyboardInterrupt:
            pass
