"""Create a tenant from the command line."""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.models import Tenant
from tenancy.services import tenant_create


# How the command's options name the model's fields in its messages.
_OPTIONS = {"tenant_id": "TENANT_ID", "pod_domain": "--domain", "site_id": "--site", "base_url": "--base-url",
            "admins": "--admin"}


def _sentence(field: str, messages: list) -> str:
    """One validation error as a sentence naming the option ("--domain: ..."), never ``__all__``."""
    text = " ".join(m.rstrip(".") + "." for m in messages)
    return text if field == "__all__" else f"{_OPTIONS.get(field, field)}: {text}"


class Command(BaseCommand):
    help = "Create a tenant with an imported public key (--public-key-file) or a generated key pair."

    def add_arguments(self, parser):
        parser.add_argument("tenant_id", help="The tenant's id, as in its tokens' tapis/tenant_id claim.")
        parser.add_argument("--domain", required=True,
                            help="A DNS name such as tenant.example.org; pod URLs become {pod_id}.pods.{domain}.")
        parser.add_argument("--site", default="local", help="The site the tenant belongs to (default: local).")
        parser.add_argument("--base-url", default="", help="The tenant's Tapis base URL, e.g. https://tacc.tapis.io.")
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
            raise CommandError(" ".join(_sentence(k, v) for k, v in exc.message_dict.items())) from exc
        for key in tenant.keys.all():
            self.stdout.write(f"key {key.fingerprint}{' (can sign dev tokens)' if key.can_sign else ''}")
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.tenant_id!r}."))
