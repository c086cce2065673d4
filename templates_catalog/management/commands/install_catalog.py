"""``manage.py install_catalog``: install or refresh the built-in templates and their images."""
from django.core.management.base import BaseCommand, CommandError

from templates_catalog.catalog.install import CatalogDefinitionError, catalog_install


class Command(BaseCommand):
    help = ("Install the built-in template catalog (neo4j, postgres, jupyterlab) and put their images on "
            "the site allow-list. Idempotent: re-running changes nothing unless the catalog changed.")

    def handle(self, *args, **options):
        try:
            changes = catalog_install()
        except CatalogDefinitionError as exc:
            raise CommandError(str(exc)) from exc
        for line in changes:
            self.stdout.write(f"  {line}")
        if changes:
            self.stdout.write(self.style.SUCCESS(f"Catalog installed ({len(changes)} change(s))."))
        else:
            self.stdout.write("Catalog is up to date.")
