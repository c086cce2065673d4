"""Request serializers of volumes and snapshots (tapipy's ``NewVolume``, ``UpdateVolume``,
``NewSnapshot``, ``UpdateSnapshot``) and their renderings."""
import re

from rest_framework import serializers

from core.datetimes import wire_datetime
from core.fields import StrictCharField, StrictIntegerField, StrictSerializer

STORAGE_ID_RE = re.compile(r"^[a-z][a-z0-9]+$")
MAX_SIZE_LIMIT_MB = 10 * 1024 * 1024  # 10 TB: a sanity bound; the tenant quota is the real one


def _check_id(value):
    if not STORAGE_ID_RE.match(value):
        raise serializers.ValidationError(
            "Must start with a lowercase letter and hold only lowercase letters and digits (^[a-z][a-z0-9]+$).")
    return value


def _ascii(value):
    if not value.isascii():
        raise serializers.ValidationError("Must be ASCII.")
    return value


def _size_limit(**kwargs):
    return StrictIntegerField(min_value=1, max_value=MAX_SIZE_LIMIT_MB, help_text="MB.", **kwargs)


class NewVolumeSerializer(StrictSerializer):
    volume_id = StrictCharField(min_length=3, max_length=128, validators=[_check_id])
    description = StrictCharField(max_length=255, required=False, allow_blank=True, validators=[_ascii])
    size_limit = _size_limit(required=False)


class UpdateVolumeSerializer(StrictSerializer):
    description = StrictCharField(max_length=255, required=False, allow_blank=True, validators=[_ascii])
    size_limit = _size_limit(required=False)


class NewSnapshotSerializer(StrictSerializer):
    snapshot_id = StrictCharField(min_length=3, max_length=128, validators=[_check_id])
    source_volume_id = StrictCharField(min_length=3, max_length=128, validators=[_check_id])
    source_volume_path = StrictCharField(max_length=1024, trim_whitespace=False)
    destination_path = StrictCharField(max_length=1024, required=False, allow_blank=True, trim_whitespace=False)
    description = StrictCharField(max_length=255, required=False, allow_blank=True, validators=[_ascii])
    size_limit = _size_limit(required=False)
    cron = StrictCharField(max_length=100, required=False, allow_blank=True)
    retention_policy = StrictCharField(max_length=100, required=False, allow_blank=True)


class UpdateSnapshotSerializer(StrictSerializer):
    description = StrictCharField(max_length=255, required=False, allow_blank=True, validators=[_ascii])
    size_limit = _size_limit(required=False)
    cron = StrictCharField(max_length=100, required=False, allow_blank=True)
    retention_policy = StrictCharField(max_length=100, required=False, allow_blank=True)


def _common(obj) -> dict:
    return {"description": obj.description, "size_limit": obj.size_limit, "size": obj.size_mb,
            "status": obj.status, "creation_ts": wire_datetime(obj.creation_ts),
            "update_ts": wire_datetime(obj.update_ts)}


def render_volume(volume) -> dict:
    """tapipy's ``VolumeResponseModel``."""
    return {"volume_id": volume.volume_id, **_common(volume)}


def render_snapshot(snapshot) -> dict:
    """tapipy's ``SnapshotResponseModel``."""
    return {"snapshot_id": snapshot.snapshot_id, "source_volume_id": snapshot.source_volume_id,
            "source_volume_path": snapshot.source_volume_path,
            "destination_path": snapshot.destination_path, "cron": snapshot.cron,
            "retention_policy": snapshot.retention_policy, **_common(snapshot)}


def usage_metadata(obj) -> dict:
    """Current usage next to the limit (bytes), for get_volume / get_snapshot."""
    return {"usage_bytes": obj.size_bytes, "size_limit_bytes": obj.size_limit_bytes,
            "over_limit": obj.size_bytes > obj.size_limit_bytes,
            "measured_at": wire_datetime(obj.measured_at)}


class VolumeResponseSerializer(serializers.Serializer):
    volume_id = serializers.CharField()
    description = serializers.CharField()
    size_limit = serializers.IntegerField()
    size = serializers.IntegerField()
    status = serializers.CharField()
    creation_ts = serializers.DateTimeField()
    update_ts = serializers.DateTimeField()


class SnapshotResponseSerializer(VolumeResponseSerializer):
    volume_id = None
    snapshot_id = serializers.CharField()
    source_volume_id = serializers.CharField()
    source_volume_path = serializers.CharField()
    destination_path = serializers.CharField()
    cron = serializers.CharField()
    retention_policy = serializers.CharField()


class FileResponseSerializer(serializers.Serializer):
    """tapipy's ``FileModel``."""

    path = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    size = serializers.IntegerField()
    lastModified = serializers.CharField()  # noqa: N815 - wire name
    nativePermissions = serializers.CharField()  # noqa: N815 - wire name
