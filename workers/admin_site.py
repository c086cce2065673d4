"""The admin site of the operator console: Django's admin with a dashboard as its index.

It lives in ``workers`` (the top app) because the dashboard reads everything below: pods, the
cluster's health, the Celery queues and workers. ``pods_project.settings`` installs it in place of
``django.contrib.admin`` (through :class:`PodsAdminConfig`), so every ``admin.register`` of the
apps lands on it.
"""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class PodsAdminSite(admin.AdminSite):
    site_header = "Pods Service console"
    site_title = "Pods Service console"
    index_title = "Dashboard"
    index_template = "workers/admin_index.html"
    # The model list is on the dashboard; a sidebar on every page would squeeze the lists' columns.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        from workers.dashboard import overview

        return super().index(request, {**(extra_context or {}), "dashboard": overview()})


class PodsAdminConfig(AdminConfig):
    default_site = "workers.admin_site.PodsAdminSite"
