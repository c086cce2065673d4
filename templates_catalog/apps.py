from django.apps import AppConfig


class TemplatesCatalogConfig(AppConfig):
    name = "templates_catalog"
    verbose_name = "Templates catalog"

    def ready(self):
        from templates_catalog.models.images import connect_signals

        connect_signals()
