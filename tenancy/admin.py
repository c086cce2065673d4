"""Admin site registrations: tenants (with pod counts and quota usage) and their keys."""
from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html

from tenancy.models import Tenant, TenantKey


class TenantKeyInline(admin.TabularInline):
    model = TenantKey
    extra = 0
    fields = ("kid", "public_key_pem", "is_active", "fingerprint", "can_sign", "created_at")
    readonly_fields = ("fingerprint", "can_sign", "created_at")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("tenant_id", "site_id", "pod_domain", "is_active", "pods_running", "pod_quota", "service_tokens",
                    "oidc")
    list_filter = ("is_active", "site_id", "may_issue_service_tokens")
    search_fields = ("tenant_id", "pod_domain", "oidc_issuer")
    inlines = [TenantKeyInline]
    fieldsets = (
        (None, {"fields": ("tenant_id", "site_id", "base_url", "pod_domain", "is_active", "admins")}),
        ("OIDC bearer tokens", {"fields": ("oidc_issuer", "oidc_audience", "oidc_accept_any_audience",
                                           "oidc_username_claim")}),
        ("Service tokens", {"fields": ("may_issue_service_tokens", "service_token_tenants")}),
        ("Quotas", {"fields": ("pod_quota", "pods_running", "max_pods", "max_pods_per_user", "max_cpu_millicores",
                               "max_memory_mb")}),
    )
    readonly_fields = ("pod_quota", "pods_running")

    def get_queryset(self, request):
        # Counted in the list's one query (pods reach tenants by their foreign key's related name).
        return super().get_queryset(request).annotate(
            pod_total=Count("pods", distinct=True),
            pod_available=Count("pods", filter=Q(pods__status="AVAILABLE"), distinct=True),
            pod_error=Count("pods", filter=Q(pods__status="ERROR"), distinct=True))

    @admin.display(description="pods / quota", ordering="pod_total")
    def pod_quota(self, obj):
        if not obj.pk:
            return "–"
        limit = obj.max_pods or settings.PODS_TENANT_MAX_PODS
        used = getattr(obj, "pod_total", None)
        used = obj.pods.count() if used is None else used
        share = round(100 * used / limit) if limit else 0
        return format_html('<a href="/admin/pods/pod/?tenant__id__exact={}">{}</a> / <span title="{}">{}</span> ({}%)',
                           obj.pk, used, "the tenant's max_pods" if obj.max_pods else
                           "PODS_TENANT_MAX_PODS (the tenant sets no max_pods)", limit, share)

    @admin.display(description="svc tokens", boolean=True, ordering="may_issue_service_tokens")
    def service_tokens(self, obj):
        return obj.may_issue_service_tokens

    @admin.display(description="OIDC", boolean=True)
    def oidc(self, obj):
        return bool(obj.oidc_issuer)

    @admin.display(description="running / failed")
    def pods_running(self, obj):
        if not obj.pk or getattr(obj, "pod_available", None) is None:
            return "–"
        return format_html('{} AVAILABLE · <a href="/admin/pods/pod/?tenant__id__exact={}&amp;status__exact=ERROR">{} '
                           'ERROR</a>', obj.pod_available, obj.pk, obj.pod_error)


@admin.register(TenantKey)
class TenantKeyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tenant", "kid", "fingerprint", "can_sign", "is_active", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("tenant",)
    fields = ("tenant", "kid", "public_key_pem", "is_active", "fingerprint", "can_sign")
    readonly_fields = ("fingerprint", "can_sign")
