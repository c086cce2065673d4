"""Idempotent local-development bootstrap run by ``make run``.

It refuses to run with DEBUG off, so it can never seed a production database with development
data.
"""
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from templates_catalog.catalog.install import catalog_install
from tenancy.models import Tenant
from tenancy.services import tenant_create, tenant_key_generate

DEV_TENANT = "dev"


class Command(BaseCommand):
    help = ("Seed a development database: tenant 'dev' with a signing key, an admin superuser, and the "
            "built-in template catalog.")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("bootstrap_dev is for development only (DJANGO_DEBUG is off).")
        self._ensure_dev_tenant()
        self._ensure_superuser()
        self._install_catalog()

    def _ensure_dev_tenant(self):
        tenant = Tenant.objects.filter(tenant_id=DEV_TENANT).first()
        if tenant is None:
            tenant = tenant_create(tenant_id=DEV_TENANT, pod_domain="localhost", site_id="local",
                                   base_url="http://localhost:8000", admins=["admin"], generate_key=True)
            self.stdout.write(self.style.SUCCESS("Created tenant 'dev' (pod URLs: {pod_id}.pods.localhost)."))
        elif not tenant.keys.exclude(private_key_encrypted="").exists():
            tenant_key_generate(tenant=tenant)
            self.stdout.write("Tenant 'dev': generated a signing key.")
        else:
            self.stdout.write("Tenant 'dev' is ready.")
        self.stdout.write("  Token: .venv/bin/python manage.py dev_token --tenant dev --username <you>")

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

    def _install_catalog(self):
        changes = catalog_install()
        self.stdout.write(f"Template catalog: {len(changes)} change(s)." if changes
                          else "Template catalog is up to date.")
