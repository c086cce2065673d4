from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenants"

    def ready(self):
        from .identity import schema  # noqa: F401  (registers the OpenAPI auth schemes)
