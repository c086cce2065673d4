"""The image allow-list: which Docker images (by name, tag ignored) each tenant may run.

An entry belongs to the tenant whose admin added it, or to the site (``tenant = NULL``: the
built-in catalog's images and entries staff make in the admin site). Its ``tenants`` list says
whom it admits, as upstream:

- ``<tenant_id>``: that tenant;
- ``*``: every tenant (site entries);
- ``**``: every tenant;
- ``-<tenant_id>``: not that tenant (wins over the rest of the same entry).

**A tenant's entry speaks for that tenant only**: its admins write ``<own id>`` (allow) or
``-<own id>`` (deny) — ``*`` and ``**`` are accepted, as upstream's clients send them, and admit
that tenant alone — and nothing in it admits or denies another tenant, so no tenant can set
another's policy nor leave it an entry it cannot delete. Entries for several tenants or the whole
site are site entries, made by staff in the admin site. (Entries written before that rule that
name other tenants count for their own tenant alone.)

A tenant may run an image when its own entry or a site entry admits it and none of them denies
it: a tenant's own ``-<self>`` entry opts it out of an image the site offers, for pods from
templates too (:func:`image_denied`).
"""
import threading
import time
from collections import defaultdict
from fnmatch import fnmatchcase

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from podspec.images import image_name

ALL_TENANTS = "**"
SITE_TENANTS = "*"


class ImageQuerySet(models.QuerySet):
    def visible_to(self, tenant):
        """Entries a tenant's users may see: its own, and site entries that admit or deny it by
        name, ``**`` or ``*`` (site entries naming only other tenants, and other tenants' entries,
        stay invisible)."""
        t = tenant.tenant_id
        mentions = Q(tenants__overlap=[ALL_TENANTS, SITE_TENANTS, t, f"-{t}"])
        return self.filter(Q(tenant=tenant) | (Q(tenant__isnull=True) & mentions))

    def in_lookup_order(self, tenant):
        """The tenant's own entry first, then the site's, then other tenants' (oldest first)."""
        return self.annotate(lookup_rank=models.Case(
            models.When(tenant=tenant, then=models.Value(0)),
            models.When(tenant__isnull=True, then=models.Value(1)),
            default=models.Value(2), output_field=models.IntegerField(),
        )).order_by("lookup_rank", "creation_ts", "pk")


class Image(models.Model):
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="images",
                               help_text="Tenant whose admin manages this entry; empty for site entries.")
    image = models.CharField(max_length=256, help_text="Image name without tag, e.g. 'jupyter/base-notebook'.")
    tenants = ArrayField(models.CharField(max_length=70), default=list, blank=True,
                         help_text="Who may run it: tenant ids, '*' (this site), '**' (all), '-<tenant>' (not).")
    description = models.CharField(max_length=255, blank=True, default="")
    added_by = models.CharField(max_length=150, blank=True, default="")
    creation_ts = models.DateTimeField(default=timezone.now)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["image", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "image"], name="image_unique_per_tenant"),
            models.UniqueConstraint(fields=["image"], condition=Q(tenant__isnull=True),
                                    name="image_site_entry_unique"),
        ]
        indexes = [models.Index(fields=["image"], name="image_name_idx")]

    def __str__(self):
        return f"{self.image} ({self.managed_by})"

    @property
    def managed_by(self) -> str:
        """``"site"`` or the id of the tenant whose admins manage the entry."""
        return "site" if self.tenant_id is None else self.tenant.tenant_id

    def clean(self):
        """A tenant's entry names that tenant only (site entries name anyone)."""
        if self.tenant_id is not None:
            own = self.tenant.tenant_id
            foreign = [item for item in self.tenants or []
                       if item not in (own, f"-{own}", SITE_TENANTS, ALL_TENANTS)]
            if foreign:
                raise ValidationError({"tenants": f"An entry of tenant {own!r} names only {own!r}, '-{own}', "
                                                  f"'*' or '**' (not {', '.join(foreign)}); leave the tenant "
                                                  "empty for a site entry."})

    def speaks_for(self, tenant) -> bool:
        """Site entries speak for every tenant; a tenant's entry for that tenant alone."""
        return self.tenant_id is None or self.tenant_id == tenant.pk

    def denies(self, tenant) -> bool:
        return self.speaks_for(tenant) and f"-{tenant.tenant_id}" in self.tenants

    def admits(self, tenant) -> bool:
        """Whether this entry, on its own, lets ``tenant`` run the image."""
        if not self.speaks_for(tenant) or self.denies(tenant):
            return False
        return bool({ALL_TENANTS, SITE_TENANTS, tenant.tenant_id} & set(self.tenants))


def managed_verdict(tenant, name: str) -> bool | None:
    """What the entries for ``name`` (already normalised: no tag, no ``docker.io/library/``) say
    about ``tenant``, by the rules in the module docstring: allowed (True), denied (False), or
    nothing (None: no entry admits or denies it)."""
    entries = _entries_for(tenant).get(name, ())
    if any(e.denies(tenant) for e in entries):
        return False
    return True if any(e.admits(tenant) for e in entries) else None


# -- the entries a tenant's decisions read, kept in each process ---------------------------------
# Every create asks the allow-list; like tenants and their keys (tenancy/cache.py) each process
# keeps a tenant's entries (its own and the site's, by image name) for PODS_TENANT_CACHE_SECONDS:
# a change made anywhere (admin, API, SQL) applies everywhere within that TTL, and at once in the
# process that saved or deleted an entry through the ORM. Only names that have entries are held,
# so what users send cannot grow it.
_entries: dict = {}  # tenant pk -> (time.monotonic() loaded, {name: (Image, ...)})
_entries_lock = threading.Lock()
_entries_generation = 0


def _entries_for(tenant) -> dict:
    ttl = settings.PODS_TENANT_CACHE_SECONDS
    cached = _entries.get(tenant.pk)
    if ttl and cached is not None and time.monotonic() - cached[0] < ttl:
        return cached[1]
    generation = _entries_generation
    by_name = defaultdict(list)
    for entry in Image.objects.filter(Q(tenant__isnull=True) | Q(tenant=tenant)).only("tenant", "image", "tenants"):
        by_name[entry.image].append(entry)
    loaded = {name: tuple(entries) for name, entries in by_name.items()}
    if ttl:
        with _entries_lock:
            if generation == _entries_generation:  # no change was saved while this loaded
                _entries[tenant.pk] = (time.monotonic(), loaded)
    return loaded


def forget_entries(**kwargs) -> None:
    """Drop this process's cached entries (an entry was saved or deleted; and for tests)."""
    global _entries_generation
    with _entries_lock:
        _entries_generation += 1
        _entries.clear()


def _entry_changed(**kwargs) -> None:
    forget_entries()
    transaction.on_commit(forget_entries)  # a reader that loaded in between must not keep the old rows


def connect_signals() -> None:
    """Called once from :class:`templates_catalog.apps.TemplatesCatalogConfig`."""
    post_save.connect(_entry_changed, sender=Image, dispatch_uid="image-entries-save")
    post_delete.connect(_entry_changed, sender=Image, dispatch_uid="image-entries-delete")


def image_denied(tenant, image: str) -> bool:
    """Whether the tenant's own entries or the site's deny ``image`` (any reference form).

    Asked for every image a pod will run, including one a template supplies: a template's
    publisher vouches for its image, but never over a tenant's own deny.
    """
    return managed_verdict(tenant, image_name(image)) is False


def image_allowed(tenant, image: str) -> bool:
    """Whether ``tenant`` may run ``image`` (any reference form): the one place that decides.

    Two sources, as upstream (its managed list plus ``conf.image_allow_list``): the managed
    entries above, and the site's static ``PODS_IMAGE_ALLOWLIST`` (fnmatch patterns over the
    image *name*, for images a site always allows, e.g. the simulator's ``kubesim/*``). A deny
    in the managed list (the tenant's own ``-<tenant>`` entry or the site's) wins over both.
    Creating a pod and ``get_image``'s ``allowed_for_your_tenant`` both ask this function.
    """
    name = image_name(image)
    verdict = managed_verdict(tenant, name)
    if verdict is not None:
        return verdict
    return any(fnmatchcase(name, pattern) for pattern in settings.PODS_IMAGE_ALLOWLIST)
