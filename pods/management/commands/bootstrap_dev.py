"""Idempotent local-development bootstrap run by ``make run``.

Later capabilities extend it (tenant, keys, catalog). It refuses to run with DEBUG off, so it can
never seed a production database with development data.
"""
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Seed a development database: an admin-site superuser. Safe to run repeatedly."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("bootstrap_dev is for development only (DJANGO_DEBUG is off).")
        self._ensure_superuser()

    def _ensure_superuser(self):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Admin site: a superuser already exists.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(self.style.SUCCESS(
            f"Admin site: created superuser 'admin' with password {password!r} (shown once; "
            "change it with `manage.py changepassword admin`)."
        ))
