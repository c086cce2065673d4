"""Strict serializer fields and a serializer base that refuses unknown keys.

DRF's stock fields coerce (``5`` → ``"5"``, ``"true"`` → ``True``); upstream's pydantic models
do not, so a typo'd type would be silently "fixed" here but rejected there. These fields accept
exactly the JSON type, and :class:`StrictSerializer` answers an unknown key with a 400 naming it
(upstream's ``extra="forbid"``).
"""
import copy

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


INT32_MAX = 2**31 - 1


class StrictIntegerField(serializers.IntegerField):
    """An integer, never a bool or a numeric string; bounded to a signed 32-bit column unless
    the field sets its own bounds (10**12 used to reach Postgres and come back as a 500)."""

    default_error_messages = {"invalid": "Must be an integer."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", INT32_MAX)
        kwargs.setdefault("min_value", -INT32_MAX - 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def string_list(*, item_max_length=None, **kwargs):
    """A list of strings; ``max_length`` bounds the number of items, ``item_max_length`` each one."""
    return serializers.ListField(child=StrictCharField(allow_blank=True, trim_whitespace=False,
                                                       max_length=item_max_length), **kwargs)


class BoundedDictField(serializers.DictField):
    """A dict with at most ``max_entries`` keys of at most ``key_max_length`` characters."""

    def __init__(self, *, max_entries=None, key_max_length=None, **kwargs):
        self.max_entries, self.key_max_length = max_entries, key_max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            if self.max_entries is not None and len(data) > self.max_entries:
                raise serializers.ValidationError(f"At most {self.max_entries} entries (got {len(data)}).")
            if self.key_max_length is not None:
                long = [key for key in data if isinstance(key, str) and len(key) > self.key_max_length]
                if long:
                    raise serializers.ValidationError(f"Keys are at most {self.key_max_length} characters.")
        return super().to_internal_value(data)


def string_dict(*, item_max_length=None, **kwargs):
    """A dict of strings (see :class:`BoundedDictField` for ``max_entries``, ``key_max_length``)."""
    return BoundedDictField(child=StrictCharField(allow_blank=True, trim_whitespace=False,
                                                  max_length=item_max_length), **kwargs)


def _json_kind(data) -> str:
    if isinstance(data, list):
        return "a JSON array"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, (int, float)):
        return "a number"
    return "null" if data is None else type(data).__name__


class StrictSerializer(serializers.Serializer):
    """A serializer whose input may hold only its declared fields.

    Its fields are deep-copied from the declared ones once per class, and each instance gets
    shallow copies of those (DRF deep-copies every declared field, children included, for every
    instance: most of a create's validation time). The copies are bound to the instance as
    DRF binds its own; what they share (child fields, nested serializers' fields, validators) is
    only read while validating: no field here keeps per-request state.
    """

    def get_fields(self):
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = copy.deepcopy(self._declared_fields)
            cls._field_prototypes = prototypes
        return {name: copy.copy(field) for name, field in prototypes.items()}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            # Upstream's wording: a body (or nested object) that is not a JSON object says so.
            where = "Invalid request body" if self.parent is None else "Invalid value"
            raise serializers.ValidationError({"non_field_errors": [
                f"{where}: expected a JSON object, got {_json_kind(data)}."]})
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field; it is not accepted here."] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not errors or not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**exc.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value


class DescriptionField(StrictCharField):
    """A ``description``: ASCII only, at most ``max_length`` characters, in upstream's words."""

    def __init__(self, *, max_length, **kwargs):
        self.description_max = max_length
        kwargs.setdefault("allow_blank", True)
        # max_length documents the bound in the schema; the check below runs first, in upstream's words.
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value.isascii():
            raise serializers.ValidationError("description field may only contain ASCII characters.")
        if len(value) > self.description_max:
            raise serializers.ValidationError(
                f"description field must be less than {self.description_max} characters. "
                f"Inputted length: {len(value)}")
        return value


class QueryFlag:
    """Boolean query parameters the way tapipy sends them (``True``/``False``), and the usual
    spellings (``true``, ``1``, ``yes``...)."""

    TRUE = {"true", "1", "yes", "on"}
    FALSE = {"false", "0", "no", "off", ""}

    @classmethod
    def read(cls, request, name: str, default: bool = False) -> bool:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in cls.TRUE:
            return True
        if value in cls.FALSE:
            return False
        raise serializers.ValidationError({name: [f"Must be true or false (got {raw!r})."]})
