"""Manage a tenant's private-registry credentials (site staff; the admin site offers the same).

    manage.py registry_credential set TENANT REGISTRY --username U (--password-file F | --password-stdin)
    manage.py registry_credential list [TENANT]
    manage.py registry_credential delete TENANT REGISTRY

The password (or token) is read from a file or standard input, never from the command line (it
would land in the shell history and the process list), stored encrypted, and never printed.
"""
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from templates_catalog.models import RegistryCredential
from templates_catalog.models.registries import validate_registry
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Set, list or delete the credentials a tenant's pods pull private images with."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        put = sub.add_parser("set", help="add or replace a tenant's credential for a registry")
        put.add_argument("tenant")
        put.add_argument("registry", help="host[:port] as in image references; docker.io for Docker Hub")
        put.add_argument("--username", required=True)
        source = put.add_mutually_exclusive_group(required=True)
        source.add_argument("--password-file", help="file holding the password or token")
        source.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        put.add_argument("--description", default="")
        listing = sub.add_parser("list", help="list credentials (never their passwords)")
        listing.add_argument("tenant", nargs="?")
        drop = sub.add_parser("delete", help="delete a tenant's credential for a registry")
        drop.add_argument("tenant")
        drop.add_argument("registry")

    def handle(self, *args, verb, **options):
        return getattr(self, f"_{verb}")(**options)

    @staticmethod
    def _tenant(tenant_id):
        try:
            return Tenant.objects.get(tenant_id=tenant_id)
        except Tenant.DoesNotExist:
            raise CommandError(f"No tenant {tenant_id!r}.") from None

    def _set(self, *, tenant, registry, username, password_file, password_stdin, description, **_):
        try:
            validate_registry(registry)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            try:
                with open(password_file, encoding="utf-8") as handle:
                    password = handle.read().strip()
            except OSError as exc:
                raise CommandError(f"Cannot read {password_file}: {exc.strerror}.") from None
        if not password or not username.strip():
            raise CommandError("Both a username and a non-empty password are needed.")
        owner = self._tenant(tenant)
        credential = RegistryCredential.objects.filter(tenant=owner, registry=registry).first() or \
            RegistryCredential(tenant=owner, registry=registry, created_by="manage.py")
        credential.username, credential.description, credential.update_ts = username, description, timezone.now()
        credential.set_password(password)
        credential.save()
        self.stdout.write(f"Tenant {tenant}'s pods pull images from {registry} as {username}.")

    def _list(self, *, tenant=None, **_):
        rows = RegistryCredential.objects.select_related("tenant")
        if tenant:
            rows = rows.filter(tenant=self._tenant(tenant))
        for row in rows:
            self.stdout.write(f"{row.tenant.tenant_id}\t{row.registry}\t{row.username}\t{row.description}")

    def _delete(self, *, tenant, registry, **_):
        deleted, _ = RegistryCredential.objects.filter(tenant=self._tenant(tenant), registry=registry).delete()
        if not deleted:
            raise CommandError(f"Tenant {tenant} has no credential for {registry}.")
        self.stdout.write(f"Deleted tenant {tenant}'s credential for {registry}.")
