"""Admin site registrations: tenants and their keys."""
from django.contrib import admin

from tenancy.models import Tenant, TenantKey


class TenantKeyInline(admin.TabularInline):
    model = TenantKey
    extra = 0
    fields = ("kid", "public_key_pem", "is_active", "fingerprint", "can_sign", "created_at")
    readonly_fields = ("fingerprint", "can_sign", "created_at")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("tenant_id", "site_id", "pod_domain", "oidc_issuer", "may_issue_service_tokens", "is_active",
                    "max_pods", "created_at")
    list_filter = ("is_active", "site_id", "may_issue_service_tokens")
    search_fields = ("tenant_id", "pod_domain", "oidc_issuer")
    inlines = [TenantKeyInline]
    fieldsets = (
        (None, {"fields": ("tenant_id", "site_id", "base_url", "pod_domain", "is_active", "admins")}),
        ("OIDC bearer tokens", {"fields": ("oidc_issuer", "oidc_audience", "oidc_accept_any_audience",
                                           "oidc_username_claim")}),
        ("Service tokens", {"fields": ("may_issue_service_tokens", "service_token_tenants")}),
        ("Quotas", {"fields": ("max_pods", "max_pods_per_user", "max_cpu_millicores", "max_memory_mb")}),
    )


@admin.register(TenantKey)
class TenantKeyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tenant", "kid", "fingerprint", "can_sign", "is_active", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("tenant",)
    fields = ("tenant", "kid", "public_key_pem", "is_active", "fingerprint", "can_sign")
    readonly_fields = ("fingerprint", "can_sign")
