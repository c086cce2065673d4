"""Tenants and their active keys, kept in each process for the authentication hot path.

Every API request needs its tenant and the tenant's active keys; fetching them cost two of a
pod read's three queries. Here each process keeps them, with the keys already parsed, for
``PODS_TENANT_CACHE_SECONDS`` (0 turns the cache off).

Invalidation:

- **Within the TTL, everywhere.** An entry older than the TTL is loaded again, so a rotated-out
  key, a deactivated key or tenant, or any other change stops applying in every process within
  the TTL, however it was made (admin site, command, shell, SQL, ``QuerySet.update``, another
  host). That bound is what the security promise rests on, and it needs nothing on the request
  path: no Redis round trip per request (a version counter in Redis would only speed up the
  changes this process could see anyway, and would put Redis on the authentication path).
- **At once, in the process that made the change.** Saving or deleting a ``Tenant`` or a
  ``TenantKey`` through the ORM drops this process's cache (now and again after the commit, so
  a reader that reloaded in between cannot keep the old rows), so the admin site and the
  commands see their own writes.

Unknown tenants are never cached: whoever sends tokens chooses the ids, and a cache of misses
would grow without bound. Callers get a copy of the cached ``Tenant`` (cheap: a dict copy), so
nothing a request does to its instance leaks into other requests.
"""
import copy
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from tenancy.models import Tenant, TenantKey

_rsa = RSAAlgorithm(RSAAlgorithm.SHA256)


@dataclass(frozen=True)
class VerifyingKey:
    """An active key, parsed once: ``key`` is what ``jwt.decode`` takes."""

    kid: str
    key: object  # an RSA public key object; the PEM text itself if it does not parse (decode says why)


@dataclass(frozen=True)
class TenantEntry:
    tenant: Tenant
    keys: tuple[VerifyingKey, ...]  # active keys, newest first
    loaded_at: float  # time.monotonic()


_by_tenant_id: dict[str, TenantEntry] = {}
_by_issuer: dict[str, str] = {}  # OIDC issuer -> tenant_id
_lock = threading.Lock()
_generation = 0  # bumped by clear(): a load that began before a clear is not stored


def _parse(pem: str):
    try:
        return _rsa.prepare_key(pem)
    except (InvalidKeyError, ValueError, TypeError):
        return pem


def _load(**lookup) -> TenantEntry | None:
    tenant = Tenant.objects.filter(**lookup).first()
    if tenant is None:
        return None
    keys = tuple(VerifyingKey(kid=k.kid, key=_parse(k.public_key_pem))
                 for k in TenantKey.objects.filter(tenant=tenant, is_active=True).only("kid", "public_key_pem"))
    return TenantEntry(tenant=tenant, keys=keys, loaded_at=time.monotonic())


def _fresh(entry: TenantEntry | None, ttl: float) -> bool:
    return entry is not None and time.monotonic() - entry.loaded_at < ttl


def _get(cached: TenantEntry | None, **lookup) -> TenantEntry | None:
    ttl = settings.PODS_TENANT_CACHE_SECONDS
    if ttl > 0 and _fresh(cached, ttl):
        return cached
    generation = _generation
    entry = _load(**lookup)
    if entry is not None and ttl > 0:
        with _lock:
            if generation == _generation:
                _by_tenant_id[entry.tenant.tenant_id] = entry
                if entry.tenant.oidc_issuer:
                    _by_issuer[entry.tenant.oidc_issuer] = entry.tenant.tenant_id
    return entry


def _handed_out(entry: TenantEntry | None) -> TenantEntry | None:
    if entry is None:
        return None
    tenant = copy.copy(entry.tenant)
    for name, value in vars(tenant).items():
        if isinstance(value, (list, dict)):  # admins, service_token_tenants: not shared either
            setattr(tenant, name, copy.copy(value))
    return TenantEntry(tenant=tenant, keys=entry.keys, loaded_at=entry.loaded_at)


def tenant_entry(tenant_id: str) -> TenantEntry | None:
    """The tenant ``tenant_id`` (active or not) with its active keys, or None if there is none."""
    return _handed_out(_get(_by_tenant_id.get(tenant_id), tenant_id=tenant_id))


def tenant_entry_for_issuer(issuer: str) -> TenantEntry | None:
    """The tenant whose OIDC issuer is ``issuer``, or None."""
    tenant_id = _by_issuer.get(issuer)
    cached = _by_tenant_id.get(tenant_id) if tenant_id else None
    if cached is not None and cached.tenant.oidc_issuer != issuer:
        cached = None
    return _handed_out(_get(cached, oidc_issuer=issuer))


def clear() -> None:
    """Forget every cached tenant of this process (other processes: within their TTL)."""
    global _generation
    with _lock:
        _generation += 1
        _by_tenant_id.clear()
        _by_issuer.clear()


def _changed(**kwargs) -> None:
    clear()
    transaction.on_commit(clear)


def connect_signals() -> None:
    """Called once from :class:`tenancy.apps.TenancyConfig`."""
    for model in (Tenant, TenantKey):
        post_save.connect(_changed, sender=model, dispatch_uid=f"tenancy-cache-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"tenancy-cache-delete-{model.__name__}")
