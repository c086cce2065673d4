"""Print a development JWT for a tenant user."""
from django.core.management.base import BaseCommand, CommandError

from tenancy.identity.tapis import USERNAME_RE
from tenancy.models import Tenant
from tenancy.services import dev_token


class Command(BaseCommand):
    help = "Print an X-Tapis-Token signed with the tenant's stored development key."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Id of the tenant whose stored key signs the token.")
        parser.add_argument("--username", required=True,
                            help="The user the token names (letters, digits and '_.@-', starting with a letter or '_').")
        parser.add_argument("--admin", action="store_true", help="Also make the user a tenant admin.")
        parser.add_argument("--ttl", type=int, default=86400, help="Lifetime in seconds (default one day).")

    def handle(self, *args, **opts):
        try:
            tenant = Tenant.objects.get(tenant_id=opts["tenant"])
        except Tenant.DoesNotExist:
            raise CommandError(f"Unknown tenant {opts['tenant']!r}.") from None
        if opts["ttl"] <= 0:
            raise CommandError("--ttl must be a positive number of seconds.")
        if not USERNAME_RE.match(opts["username"]):
            raise CommandError(f"--username {opts['username']!r} is not a username the API accepts: use letters, "
                               "digits and '_.@-', starting with a letter or '_', at most 150 characters.")
        if opts["admin"] and not tenant.is_admin(opts["username"]):
            tenant.admins = [*tenant.admins, opts["username"]]
            tenant.save(update_fields=["admins", "updated_at"])
        try:
            token = dev_token(tenant=tenant, username=opts["username"], ttl=opts["ttl"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token)
