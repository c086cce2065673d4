from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenants"

    def ready(self):
        from . import cache
        from .identity import schema  # noqa: F401  (registers the OpenAPI auth schemes)

        cache.connect_signals()
