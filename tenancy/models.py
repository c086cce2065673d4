"""Tenants: who may call the API, how their tokens are verified, and their quotas."""
import hashlib

from cryptography.hazmat.primitives import serialization
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from tenancy import crypto

TENANT_ID_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9]{1,63}$",
    "A tenant id is 2-64 lowercase letters and digits, starting with a letter (no '-').",
)
# A DNS name: labels of letters, digits and '-', not starting or ending with '-'.
POD_DOMAIN_VALIDATOR = RegexValidator(
    r"^(?=.{1,200}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    "A pod domain is a DNS name such as 'localhost' or 'tacc.example.org'.",
)
# What a tenant's service tokens may name in X-Tapis-Tenant: tenant ids, or "*" (its site's).
SERVICE_TENANT_VALIDATOR = RegexValidator(r"^(\*|[a-z][a-z0-9]{1,63})$", "A tenant id, or '*' (every tenant of the site).")


class Tenant(models.Model):
    """An isolated group of users; every API object belongs to exactly one tenant."""

    tenant_id = models.CharField(max_length=64, unique=True, validators=[TENANT_ID_VALIDATOR])
    site_id = models.CharField(max_length=64, default="local",
                               validators=[RegexValidator(r"^[a-z0-9]+$", "Lowercase letters and digits.")])
    base_url = models.URLField(blank=True, help_text="The tenant's API base URL (informational).")
    # Unique (case-insensitively): two tenants on one domain would route the same host names.
    pod_domain = models.CharField(
        max_length=200, validators=[POD_DOMAIN_VALIDATOR],
        help_text="Pod URLs are {pod_id}.pods.{pod_domain}, e.g. 'localhost' or 'tacc.example.org'. "
                  "One tenant per domain.",
    )
    oidc_issuer = models.URLField(blank=True, null=True, unique=True,
                                  help_text="OIDC issuer whose bearer tokens map to this tenant.")
    oidc_audience = models.CharField(max_length=200, blank=True,
                                     help_text="Required `aud` of OIDC tokens: the client id this service's "
                                               "tokens are issued to. Required with an issuer, unless the box "
                                               "below is ticked.")
    oidc_accept_any_audience = models.BooleanField(
        default=False, verbose_name="accept any OIDC audience",
        help_text="Accept tokens the issuer made for any of its clients (no `aud` check). Only for a "
                  "provider that serves this service alone: otherwise any client's tokens work here.")
    oidc_username_claim = models.CharField(max_length=100, default="preferred_username")
    admins = ArrayField(models.CharField(max_length=150), default=list, blank=True,
                        help_text="Usernames with tenant-admin rights (admin mode, image writes).")
    may_issue_service_tokens = models.BooleanField(
        default=False, verbose_name="may issue service tokens",
        help_text="Tokens with tapis/account_type 'service' signed by this tenant's keys may act on behalf "
                  "of users (X-Tapis-User, X-Tapis-Tenant). Upstream: the site's admin tenant only.")
    service_token_tenants = ArrayField(
        models.CharField(max_length=64, validators=[SERVICE_TENANT_VALIDATOR]), default=list, blank=True,
        help_text="Tenants its service tokens may act for: tenant ids, or '*' for every tenant of its site. "
                  "Empty: its own users only.")
    max_pods = models.PositiveIntegerField(null=True, blank=True,
                                           help_text="Pods in the tenant. Empty: the site default "
                                                     "(PODS_TENANT_MAX_PODS).")
    max_pods_per_user = models.PositiveIntegerField(null=True, blank=True,
                                                    help_text="Pods one user may create. Empty: the site "
                                                              "default (PODS_USER_MAX_PODS).")
    max_cpu_millicores = models.PositiveIntegerField(null=True, blank=True,
                                                     help_text="Total CPU limit of all pods. Empty: unlimited.")
    max_memory_mb = models.PositiveIntegerField(null=True, blank=True,
                                                help_text="Total memory limit of all pods. Empty: unlimited.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Born in the pods app; the table kept its name when the model moved (tenancy/0001).
        db_table = "pods_tenant"
        ordering = ["tenant_id"]
        constraints = [
            models.UniqueConstraint(Lower("pod_domain"), name="tenant_pod_domain_unique",
                                    violation_error_message="Another tenant already uses this pod domain: "
                                                            "pod URLs would collide."),
        ]

    def __str__(self):
        return self.tenant_id

    def clean_fields(self, exclude=None):
        # Host names compare case-insensitively; stored lowercase, without a final dot.
        self.pod_domain = (self.pod_domain or "").strip().lower().rstrip(".")
        super().clean_fields(exclude)

    def clean(self):
        if self.oidc_issuer and not self.oidc_audience and not self.oidc_accept_any_audience:
            raise ValidationError({"oidc_audience": "Required with an OIDC issuer: the client id the provider "
                                                    "issues this service's tokens to (or tick 'accept any "
                                                    "OIDC audience')."})

    def is_admin(self, username: str) -> bool:
        return username in self.admins

    def services_may_act_for(self, tenant: "Tenant") -> bool:
        """Whether service tokens signed by this tenant may act on behalf of users of ``tenant``."""
        if not self.may_issue_service_tokens:
            return False
        if tenant.pk == self.pk or tenant.tenant_id in self.service_token_tenants:
            return True
        return "*" in self.service_token_tenants and tenant.site_id == self.site_id


def _load_public_key(pem: str):
    try:
        return serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValidationError("Not a PEM-encoded public key.") from exc


class TenantKey(models.Model):
    """A public key that verifies the tenant's Tapis JWTs.

    A tenant may have several active keys during a rotation; a token's `kid` header picks one.
    A key generated for development also keeps its private half, encrypted, so that
    ``manage.py dev_token`` can sign tokens. Private material is never displayed.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="keys")
    kid = models.CharField(max_length=100, blank=True, help_text="Key id matched against a token's `kid`.")
    public_key_pem = models.TextField()
    private_key_encrypted = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pods_tenantkey"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.tenant_id}:{self.kid or self.fingerprint[:23]}"

    def clean(self):
        _load_public_key(self.public_key_pem)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER SubjectPublicKeyInfo, colon-separated hex."""
        try:
            der = _load_public_key(self.public_key_pem).public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        except ValidationError:
            return "invalid key"
        digest = hashlib.sha256(der).hexdigest()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))

    @property
    def can_sign(self) -> bool:
        return bool(self.private_key_encrypted)

    def set_private_key(self, pem: str):
        self.private_key_encrypted = crypto.encrypt(pem)

    def private_key_pem(self) -> str:
        return crypto.decrypt(self.private_key_encrypted)
