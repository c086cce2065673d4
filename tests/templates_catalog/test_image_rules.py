"""The allow-list rules, table-driven: which tenant may run an image given its entries."""
import pytest

from templates_catalog.models import Image, image_allowed

# (case, entries as (owner, tenants), tenant asking, allowed?)
# owners: None = site entry, "dev"/"other"/"far" = that tenant's entry. "far" is on another site.
CASES = [
    ("no entry", [], "dev", False),
    ("site ** admits everyone", [(None, ["**"])], "dev", True),
    ("site ** admits a tenant of another site", [(None, ["**"])], "far", True),
    ("site * admits every tenant", [(None, ["*"])], "far", True),
    ("site entry naming the tenant", [(None, ["dev"])], "dev", True),
    ("site entry naming another tenant", [(None, ["other"])], "dev", False),
    ("site deny wins over its own **", [(None, ["**", "-dev"])], "dev", False),
    ("site deny wins over a tenant's own grant", [(None, ["-dev"]), ("dev", ["dev"])], "dev", False),
    ("tenant's own entry", [("dev", ["dev"])], "dev", True),
    ("tenant opts out of a site image", [(None, ["**"]), ("dev", ["-dev"])], "dev", False),
    # A tenant's entry speaks for that tenant only (entries written before the rule included).
    ("another tenant's (legacy) entry offering it to everyone", [("other", ["**"])], "dev", False),
    ("another tenant's (legacy) entry naming us", [("other", ["other", "dev"])], "dev", False),
    ("another tenant's (legacy) * does not reach its site", [("other", ["*"])], "dev", False),
    ("another tenant's (legacy) deny does not touch us", [(None, ["**"]), ("other", ["-dev"])], "dev", True),
    ("another tenant's private entry", [("other", ["other"])], "dev", False),
    ("a tenant's legacy ** admits itself", [("dev", ["**"])], "dev", True),
    ("a tenant's entry naming only another admits nobody", [("dev", ["other"])], "dev", False),
    ("empty tenants list admits nobody", [(None, [])], "dev", False),
]


@pytest.fixture
def tenants(make_tenant):
    return {"dev": make_tenant("dev"), "other": make_tenant("other"),
            "far": make_tenant("far", site_id="remote")}


@pytest.mark.parametrize("case,entries,asking,allowed", CASES, ids=[c[0] for c in CASES])
def test_allow_list_rules(tenants, case, entries, asking, allowed):
    for owner, listed in entries:
        Image.objects.create(tenant=tenants[owner] if owner else None, image="lab/tool", tenants=listed)
    assert image_allowed(tenants[asking], "lab/tool") is allowed


def test_rules_are_per_image_name(tenants):
    Image.objects.create(tenant=None, image="lab/tool", tenants=["**"])
    assert image_allowed(tenants["dev"], "lab/tool")
    assert not image_allowed(tenants["dev"], "lab/other")
    assert not image_allowed(tenants["dev"], "lab")


VISIBILITY = [
    ("own entry", ("dev", ["dev"]), True),
    ("own entry that denies itself", ("dev", ["-dev"]), True),
    ("site ** entry", (None, ["**"]), True),
    ("site * entry", (None, ["*"]), True),
    ("site entry denying us", (None, ["-dev"]), True),
    ("site entry for another tenant only", (None, ["other"]), False),
    ("another tenant's (legacy) entry naming us", ("other", ["other", "dev"]), False),
    ("another tenant's private entry", ("other", ["other"]), False),
    ("another site's * entry", ("far", ["*"]), False),
]


@pytest.mark.parametrize("case,entry,visible", VISIBILITY, ids=[c[0] for c in VISIBILITY])
def test_entries_a_tenant_sees(tenants, case, entry, visible):
    owner, listed = entry
    Image.objects.create(tenant=tenants[owner] if owner else None, image="lab/tool", tenants=listed)
    assert Image.objects.visible_to(tenants["dev"]).exists() is visible


def test_a_tenants_entry_may_name_only_that_tenant(tenants):
    """The admin site validates entries too: a tenant's entry names that tenant, site entries anyone."""
    from django.core.exceptions import ValidationError

    for listed in (["other"], ["*", "other"], ["dev", "-other"]):
        with pytest.raises(ValidationError):
            Image(tenant=tenants["dev"], image="lab/tool", tenants=listed).full_clean()
    for everyone in (["*"], ["**"]):  # upstream's spelling; in a tenant's entry, that tenant alone
        Image(tenant=tenants["dev"], image="lab/tool", tenants=everyone).full_clean()
    Image(tenant=tenants["dev"], image="lab/tool", tenants=["dev"]).full_clean()
    Image(tenant=tenants["dev"], image="lab/tool", tenants=["-dev"]).full_clean()
    Image(tenant=None, image="lab/tool", tenants=["**", "-far", "other"]).full_clean()
