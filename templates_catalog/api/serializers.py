"""Request serializers (tapipy's ``NewTemplate``, ``UpdateTemplate``, ``NewTemplateTag``,
``SetPermission``, ``NewImage``) and documentation-only response serializers.

A template version's pod definition takes the pod fields (minus ``status_requested``) with the
pods API's own field rules, every one optional, and is stored sparse: only what was given.
"""
import re

from rest_framework import serializers

from core.errors import InvalidInput
from core.fields import DescriptionField, StrictCharField, StrictSerializer, string_list
from core.permissions import PermissionLevel
from podspec.images import is_valid_reference
from podspec.mounts import normalise_volume_mounts
from podspec.references import DEFAULT_TAG, check_tag, check_template_id
from podspec.serializers import PodSecuritySerializer, PodSpecSerializer
from templates_catalog.models import TEMPLATE_LEVELS
from templates_catalog.models.permissions import TEMPLATE_GRANTEE_VALIDATOR
from tenancy.models import Tenant

IMAGE_TENANT_RE = re.compile(r"^(\*\*?|-?[a-z][a-z0-9]{1,63})$")


def _as_field_error(check, value):
    try:
        return check(value)
    except ValueError as exc:
        raise serializers.ValidationError(str(exc)) from None


# --- Templates -------------------------------------------------------------------------------

class NewTemplateSerializer(StrictSerializer):
    """tapipy's ``NewTemplate``."""

    template_id = StrictCharField(help_text="3-64 lowercase letters and digits, starting with a letter.")
    description = StrictCharField(required=False, allow_blank=True, max_length=1600, trim_whitespace=False)
    metatags = string_list(required=False, max_length=50)
    archive_message = StrictCharField(required=False, allow_blank=True, max_length=1000)

    def validate_template_id(self, value):
        return _as_field_error(check_template_id, value)

    def validate_metatags(self, value):
        too_long = [tag for tag in value if len(tag) > 128]
        if too_long:
            raise serializers.ValidationError("Each metatag is at most 128 characters.")
        return value


class UpdateTemplateSerializer(NewTemplateSerializer):
    """tapipy's ``UpdateTemplate``: only the sent fields change."""

    template_id = None


class TemplatePodDefinitionSerializer(PodSpecSerializer):
    """tapipy's ``TemplateTagPodDefinition``: pod fields, all optional; ``template`` builds on
    another template (``id[:tag[@timestamp]]``, pinned to the exact version when published).
    Beyond the pod fields, ``security`` declares what the image needs (capabilities added back,
    running as non-root): only templates declare it."""

    security = PodSecuritySerializer(required=False)

    def validate_image(self, value):
        if value and not is_valid_reference(value):
            raise serializers.ValidationError(f"{value!r} is not a valid image reference.")
        return value

    def validate_networking(self, value):
        value = super().validate_networking(value)
        # URLs are generated for each pod; a template never carries one.
        return {key: {k: v for k, v in entry.items() if k != "url"} for key, entry in value.items()}

    def validate_volume_mounts(self, value):
        try:
            return normalise_volume_mounts(value, for_template=True)
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.under("volume_mounts")) from None

    def validate_resources(self, value):
        for kind in ("cpu", "mem"):
            request, limit = value.get(f"{kind}_request"), value.get(f"{kind}_limit")
            if request is not None and limit is not None and request > limit:
                raise serializers.ValidationError(
                    {f"{kind}_request": [f"{kind}_request ({request}) must not exceed {kind}_limit ({limit})."]})
        return value

    def validate_secret_map(self, value):
        # parity2: a template declares what a pod must give; it never names anyone's secret.
        from podspec.secret_map import template_errors

        errors = template_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs):
        # Stored sparse: an empty base template or a null field sets nothing.
        return {name: value for name, value in attrs.items()
                if value is not None and not (name == "template" and value == "")}


class NewTemplateTagSerializer(StrictSerializer):
    """tapipy's ``NewTemplateTag`` (plus upstream's newer ``description``)."""

    pod_definition = TemplatePodDefinitionSerializer()
    commit_message = StrictCharField(max_length=255, help_text="What this version changes.")
    tag = StrictCharField(required=False, default=DEFAULT_TAG, help_text="1-80 letters, digits, '.', '-'.")
    description = StrictCharField(required=False, allow_blank=True, max_length=20000, trim_whitespace=False,
                                  help_text="Usage notes shown with the version.")

    def validate_tag(self, value):
        return _as_field_error(check_tag, value)


class TemplateSetPermissionSerializer(StrictSerializer):
    """tapipy's ``SetPermission`` for templates: a user of the template's tenant, ``tenant.<id>``
    or ``**`` (the last two READ only, set by tenant admins)."""

    user = StrictCharField(max_length=150, validators=[TEMPLATE_GRANTEE_VALIDATOR])
    level = StrictCharField(help_text="READ, USER or ADMIN.")

    def validate_level(self, value):
        names = [level.label for level in TEMPLATE_LEVELS]
        try:
            level = PermissionLevel.from_name(value)
        except KeyError:
            level = None
        if level not in TEMPLATE_LEVELS:
            raise serializers.ValidationError(f"Must be one of {', '.join(names)} (got {value!r}).")
        return level


# --- Images ----------------------------------------------------------------------------------

def _validate_image_tenants(value):
    bad = [item for item in value if not IMAGE_TENANT_RE.match(item)]
    if bad:
        raise serializers.ValidationError(
            f"Invalid entries {', '.join(map(repr, bad))}: each is a tenant id, '-<tenant id>' (not that "
            "tenant), '*' (every tenant of this site) or '**' (every tenant).")
    named = {item.lstrip("-") for item in value if item not in ("*", "**")}
    unknown = named - set(Tenant.objects.filter(tenant_id__in=named).values_list("tenant_id", flat=True))
    if unknown:
        raise serializers.ValidationError(f"No such tenant: {', '.join(sorted(unknown))}.")
    return value


class NewImageSerializer(StrictSerializer):
    """tapipy's ``NewImage``. An empty ``tenants`` means the caller's tenant; otherwise it names
    the caller's tenant only: ``<own id>`` or ``-<own id>`` (checked by the service)."""

    image = StrictCharField(max_length=256, help_text="Image name; a tag is accepted and dropped.")
    tenants = string_list(required=False, max_length=100)
    description = DescriptionField(required=False, max_length=255)

    def validate_image(self, value):
        if not is_valid_reference(value):
            raise serializers.ValidationError(f"{value!r} is not a valid image reference.")
        return value

    def validate_tenants(self, value):
        return _validate_image_tenants(value)


class UpdateImageSerializer(StrictSerializer):
    """``update_image`` (upstream's ``UpdateImage``): only the sent fields change."""

    tenants = string_list(required=False, max_length=100, allow_empty=False)
    description = DescriptionField(required=False, max_length=255)

    def validate_tenants(self, value):
        return _validate_image_tenants(value)


# --- Documentation-only response shapes ------------------------------------------------------

class TemplateResponseSerializer(serializers.Serializer):
    """tapipy's ``TemplateResponseModel``."""

    template_id = serializers.CharField()
    description = serializers.CharField()
    metatags = serializers.ListField(child=serializers.CharField())
    archive_message = serializers.CharField()
    creation_ts = serializers.DateTimeField()
    update_ts = serializers.DateTimeField()


class TemplateTagResponseSerializer(serializers.Serializer):
    """tapipy's ``TemplateTag``."""

    template_id = serializers.CharField()
    pod_definition = serializers.DictField()
    commit_message = serializers.CharField()
    tag = serializers.CharField()
    tag_timestamp = serializers.CharField(help_text="tag@YYYY-MM-DD-HH:MM:SS (UTC).")
    description = serializers.CharField()
    added_by = serializers.CharField()
    creation_ts = serializers.DateTimeField()


class ImageResponseSerializer(serializers.Serializer):
    """tapipy's ``ImageResponseModel`` plus ``managed_by``."""

    image = serializers.CharField()
    tenants = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    creation_ts = serializers.DateTimeField()
    added_by = serializers.CharField()
    managed_by = serializers.CharField(help_text="'site', or the id of the tenant whose admins manage it.")
