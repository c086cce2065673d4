from django.apps import AppConfig


class TemplatesCatalogConfig(AppConfig):
    name = "templates_catalog"
    verbose_name = "Templates catalog"
