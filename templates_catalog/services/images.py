"""Managing the image allow-list through the API (tenant admins; see ``models/images.py``).

Through the API a tenant admin manages *their tenant's* entries only, and an entry names their
tenant only (``<own id>`` or ``-<own id>``: 403 for anything else); site entries (the built-in
catalog's images, entries staff make in the admin site, which may name any tenant, ``*`` or
``**``) are read-only here. Names are stored without tag or digest (``neo4j:5`` → ``neo4j``), as
upstream, with a notice when something was dropped.
"""
from django.db import IntegrityError, transaction

from core.errors import Conflict, Forbidden, NotFound
from podspec.images import image_name
from templates_catalog.models import Image, image_allowed  # noqa: F401  (re-exported)
from templates_catalog.models.images import ALL_TENANTS, SITE_TENANTS

# Upstream's words, exactly (its clients compare metadata.notice with them).
TAG_NOTICE = "removed tag from image, tag enforcement does not yet exist"
# What ``*`` and ``**`` mean in a tenant's own entry (they admit that tenant only).
SCOPE_NOTE = ("An entry of tenant '{own}' speaks for that tenant only: '*' and '**' in it admit tenant "
              "'{own}' alone (site-wide entries are made by site staff in the admin site).")


def normalised(image: str) -> tuple[str, str | None]:
    """``(name, notice)``: the stored name and, when a tag or digest was dropped, a notice."""
    name = image_name(image)
    return name, (TAG_NOTICE if name != image and ("@" in image or ":" in image.rsplit("/", 1)[-1])
                  else None)


def visible_images(tenant):
    return Image.objects.visible_to(tenant).in_lookup_order(tenant).select_related("tenant")


def image_for(*, tenant, image_id: str) -> Image:
    """The entry ``image_id`` resolves to for ``tenant`` (its own first, then the site's, then
    another tenant's that names it). 404 when none is visible."""
    name, _ = normalised(image_id)
    image = visible_images(tenant).filter(image=name).first()
    if image is None:
        raise NotFound(f"Image with id '{name}' not found.")
    return image


def _duplicate(name: str) -> Conflict:
    return Conflict(f"Image '{name}' is already on this tenant's allow-list; change it with update_image.",
                    metadata={"image": name})


def _check_own_tenant_only(principal, tenants) -> None:
    """403 unless every item names the principal's own tenant (allow or deny; ``*`` and ``**``,
    upstream's "everyone", count as the tenant itself in a tenant's entry)."""
    own = principal.tenant.tenant_id
    foreign = [item for item in tenants or [] if item not in (own, f"-{own}", SITE_TENANTS, ALL_TENANTS)]
    if foreign:
        raise Forbidden(f"tenants: a tenant admin writes entries for their own tenant only ('{own}', "
                        f"'-{own}', or '*'/'**', which in a tenant's entry mean '{own}'), not "
                        f"{', '.join(map(repr, foreign))}; entries for other tenants or the whole site are "
                        "made by site staff in the admin site.",
                        metadata={"field": "tenants", "not_allowed": foreign})


def _new_entry(principal, item: dict, name: str) -> Image:
    return Image(tenant=principal.tenant, image=name,
                 tenants=item.get("tenants") or [principal.tenant.tenant_id],
                 description=item.get("description", ""), added_by=principal.username)


@transaction.atomic
def image_add(*, principal, data: dict) -> tuple[Image, dict]:
    """Add an entry to the principal's tenant's allow-list (an empty ``tenants`` means the tenant
    itself). Returns the entry and the response metadata."""
    name, notice = normalised(data["image"])
    _check_own_tenant_only(principal, data.get("tenants"))
    if Image.objects.filter(tenant=principal.tenant, image=name).exists():
        raise _duplicate(name)
    entry = _new_entry(principal, data, name)
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:  # a concurrent add of the same name won
        raise _duplicate(name) from None
    return entry, {**({"notice": notice} if notice else {}), **scope_metadata(principal, entry.tenants)}


def scope_metadata(principal, tenants) -> dict:
    """``{"scope": ...}`` when an entry names ``*`` or ``**``: say whom it really admits."""
    if {SITE_TENANTS, ALL_TENANTS} & set(tenants or ()):
        return {"scope": SCOPE_NOTE.format(own=principal.tenant.tenant_id)}
    return {}


@transaction.atomic
def images_add(*, principal, items: list[dict], skip_duplicates: bool) -> tuple[list[Image], list[str]]:
    """Add several entries at once: all or nothing, unless ``skip_duplicates`` (then names already
    listed, or repeated in the request, are skipped and returned)."""
    for item in items:
        _check_own_tenant_only(principal, item.get("tenants"))
    seen = set(Image.objects.filter(tenant=principal.tenant).values_list("image", flat=True))
    added, skipped = [], []
    for item in items:
        name, _ = normalised(item["image"])
        if name in seen:
            if not skip_duplicates:
                raise _duplicate(name)
            skipped.append(name)
            continue
        seen.add(name)
        added.append(_new_entry(principal, item, name))
    try:
        with transaction.atomic():
            Image.objects.bulk_create(added)
    except IntegrityError:
        raise Conflict("Another request added some of these images at the same time; retry.") from None
    return added, skipped


def _own(image: Image, principal) -> Image:
    if image.tenant_id != principal.tenant.pk:
        owner = "the site" if image.tenant_id is None else f"tenant {image.managed_by}"
        raise Forbidden(f"Image '{image.image}' is managed by {owner}; tenant admins change only "
                        "their own tenant's entries.")
    return image


@transaction.atomic
def image_update(*, image: Image, principal, data: dict) -> tuple[Image, list[str]]:
    """Change ``tenants``/``description`` of one of the tenant's entries; returns what changed."""
    own = _own(image, principal)
    if "tenants" in data:
        _check_own_tenant_only(principal, data["tenants"])
    current = Image.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=own.pk)
    changed = [name for name in ("tenants", "description")
               if name in data and data[name] != getattr(current, name)]
    for name in changed:
        setattr(current, name, data[name])
    if changed:
        current.save(update_fields=changed)
    return current, changed


def image_delete(*, image: Image, principal) -> str:
    """Remove one of the tenant's entries; returns its name."""
    _own(image, principal).delete()
    return image.image
