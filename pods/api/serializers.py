"""Request serializers (tapipy's ``NewPod``, ``UpdatePod``, ``SetPermission``) and documentation-only
response serializers.

Input is checked field by field here (the spec's fields by :mod:`podspec.serializers`);
defaults, format conversion and cross-field rules live in :mod:`podspec`, domain rules (image
allow-list, quotas, duplicates) in :mod:`pods.services`. Responses are built by
:mod:`pods.api.rendering` (plain dicts are much faster than serializers for 1,000-pod lists);
the response serializers below only describe them in the OpenAPI document.
"""
import re

from rest_framework import serializers

from core.fields import StrictCharField, StrictSerializer
from core.permissions import USERNAME_VALIDATOR, PermissionLevel
from pods.choices import RESERVED_POD_IDS, RequestedStatus
from podspec.references import (
    DEFAULT_TAG,
    check_tag,
    check_template_id,
    legacy_template_id,
)
from podspec.serializers import PodSpecSerializer

POD_ID_RE = re.compile(r"^[a-z][a-z0-9]+$")


class NewPodSerializer(PodSpecSerializer):
    """tapipy's ``NewPod``."""

    status_requested = serializers.ChoiceField(choices=RequestedStatus.choices, required=False)

    pod_id = StrictCharField(min_length=3, max_length=64, help_text="^[a-z][a-z0-9]+$, 3-64 characters.")
    pod_template = StrictCharField(required=False, help_text="Legacy alias of template (upstream <= 1.6): "
                                                             "'neo4j' or 'template/neo4j'.")

    def validate_pod_id(self, value):
        if not POD_ID_RE.match(value):
            raise serializers.ValidationError(
                "Must start with a lowercase letter and hold only lowercase letters and digits "
                "(^[a-z][a-z0-9]+$).")
        if value in RESERVED_POD_IDS:
            raise serializers.ValidationError(f"'{value}' is a reserved word and cannot be a pod_id.")
        return value

    def validate_pod_template(self, value):
        try:
            return legacy_template_id(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        legacy = attrs.pop("pod_template", None)
        # Echoed as the pod's pod_template: the template as the user named it.
        asked = self.initial_data.get("pod_template") if legacy else attrs.get("template")
        if asked:
            attrs["pod_template"] = asked
        if legacy:
            if attrs.get("template"):
                raise serializers.ValidationError({"pod_template": [
                    "Give either template or its legacy alias pod_template, not both."]})
            attrs["template"] = legacy
        if not attrs.get("image") and not attrs.get("template"):
            raise serializers.ValidationError({"image": [
                "This field is required (no template given). With tapipy, name the template as "
                "template='neo4j': tapipy drops pod_template, which its schema lacks."]})
        return attrs


class UpdatePodSerializer(PodSpecSerializer):
    """tapipy's ``UpdatePod`` (plus upstream's newer ``image``, ``arguments``, ``compute_queue``)."""

    status_requested = serializers.ChoiceField(choices=RequestedStatus.choices, required=False)


class NewTemplateTagFromPodSerializer(StrictSerializer):
    """tapipy's ``NewTemplateTagFromPod``: publish the pod's own settings as a template version."""

    template_id = StrictCharField(help_text="The template to add the version to (USER on it needed).")
    commit_message = StrictCharField(max_length=255)
    tag = StrictCharField(required=False, default=DEFAULT_TAG)

    def validate_template_id(self, value):
        try:
            return check_template_id(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_tag(self, value):
        try:
            return check_tag(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class SetPermissionSerializer(StrictSerializer):
    """tapipy's ``SetPermission``."""

    user = StrictCharField(max_length=150, validators=[USERNAME_VALIDATOR])
    level = StrictCharField(help_text="READ, USER, ADMIN or APPROVEDADMIN.")

    def validate_level(self, value):
        try:
            return PermissionLevel.from_name(value)
        except KeyError:
            raise serializers.ValidationError(
                f"Must be one of {', '.join(PermissionLevel.names)} (got {value!r}).") from None


# --- Documentation-only response shapes ------------------------------------------------------

class PodResponseSerializer(serializers.Serializer):
    """tapipy's ``PodResponseModel``."""

    pod_id = serializers.CharField()
    image = serializers.CharField()
    template = serializers.CharField()
    pod_template = serializers.CharField(help_text="The template as the user named it at creation (or update).")
    description = serializers.CharField()
    command = serializers.ListField(child=serializers.CharField(), allow_null=True)
    arguments = serializers.ListField(child=serializers.CharField(), allow_null=True)
    environment_variables = serializers.DictField(child=serializers.CharField())
    status_requested = serializers.CharField()
    volume_mounts = serializers.DictField(child=serializers.DictField(allow_null=True))
    time_to_stop_default = serializers.IntegerField()
    time_to_stop_instance = serializers.IntegerField(allow_null=True)
    time_to_stop_ts = serializers.DateTimeField(allow_null=True)
    networking = serializers.DictField(child=serializers.DictField())
    url = serializers.CharField(help_text="The default networking entry's URL (the first entry's if none).")
    resources = serializers.DictField()
    compute_queue = serializers.CharField()
    status = serializers.CharField()
    status_container = serializers.DictField()
    creation_ts = serializers.DateTimeField()
    update_ts = serializers.DateTimeField()
    start_instance_ts = serializers.DateTimeField(allow_null=True)
    # parity2: references and placeholders as written, literal values shown as "<redacted>".
    secret_map = serializers.DictField(child=serializers.CharField())
    healthchecks = serializers.DictField(allow_null=True)
    networking_live = serializers.BooleanField()


class CredentialsResponseSerializer(serializers.Serializer):
    """tapipy's ``CredentialsModel``."""

    user_username = serializers.CharField()
    user_password = serializers.CharField()


class LogsResponseSerializer(serializers.Serializer):
    """tapipy's ``LogsModel``."""

    logs = serializers.CharField()
    action_logs = serializers.ListField(child=serializers.CharField())


class ExecutePodCommandsSerializer(StrictSerializer):
    """tapipy's ``ExecutePodCommands``: ``["ls -l", ...]`` (each run by ``sh -c``) or ``[["ls", "-l"], ...]``."""

    commands = serializers.ListField(min_length=1, max_length=100)
    command_timeout = serializers.IntegerField(required=False, default=60, min_value=1, max_value=3600)
    total_timeout = serializers.IntegerField(required=False, default=300, min_value=1, max_value=3600)
    fail_on_non_success = serializers.BooleanField(required=False, default=True)

    def validate_commands(self, value):
        for index, command in enumerate(value):
            if isinstance(command, str):
                if not command.strip() or "\x00" in command:
                    raise serializers.ValidationError(f"Command {index} is empty or holds a NUL byte.")
            elif isinstance(command, list) and command and all(isinstance(a, str) and "\x00" not in a
                                                                for a in command) and command[0]:
                continue
            else:
                raise serializers.ValidationError(
                    f"Command {index} must be a string or a non-empty list of strings.")
        return value
