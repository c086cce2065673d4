"""Create a tenant from the command line."""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.models import Tenant
from tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with an imported public key (--public-key-file) or a generated key pair."

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")
        parser.add_argument("--domain", required=True, help="Pod URLs become {pod_id}.pods.{domain}.")
        parser.add_argument("--site", default="local")
        parser.add_argument("--base-url", default="")
        parser.add_argument("--admin", action="append", default=[], help="A tenant admin username (repeatable).")
        keys = parser.add_mutually_exclusive_group(required=True)
        keys.add_argument("--public-key-file", type=Path, help="PEM public key that verifies the tenant's JWTs.")
        keys.add_argument("--generate-key", action="store_true",
                          help="Generate a key pair and keep the private key (encrypted) for dev_token.")

    def handle(self, *args, **opts):
        if Tenant.objects.filter(tenant_id=opts["tenant_id"]).exists():
            raise CommandError(f"Tenant {opts['tenant_id']!r} already exists.")
        pem = None
        if opts["public_key_file"]:
            try:
                pem = opts["public_key_file"].read_text()
            except OSError as exc:
                raise CommandError(f"Cannot read {opts['public_key_file']}: {exc}") from exc
        try:
            tenant = tenant_create(tenant_id=opts["tenant_id"], pod_domain=opts["domain"], site_id=opts["site"],
                                   base_url=opts["base_url"], admins=opts["admin"], public_key_pem=pem,
                                   generate_key=opts["generate_key"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v)
                                         for k, v in exc.message_dict.items())) from exc
        for key in tenant.keys.all():
            self.stdout.write(f"key {key.fingerprint}{' (can sign dev tokens)' if key.can_sign else ''}")
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.tenant_id!r}."))
