"""Secrets and ConfigMaps: ``stringData``, base64 checks, ``immutable``, key names."""

from __future__ import annotations

import base64
import binascii

from .. import names
from ..errors import FieldError, bad_request
from ..strategy import Strategy
from ..tables import age_cell, column

MAX_SIZE = 1024 * 1024


def _check_base64(kind: str, data: dict) -> None:
    for value in data.values():
        if not isinstance(value, str):
            raise bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: json: '
                              f"cannot unmarshal {type(value).__name__} into Go value of type "
                              f"[]uint8")
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            bad = next((i for i, ch in enumerate(value) if not (ch.isalnum() or ch in "+/=")),
                       len(value) - len(value) % 4)
            raise bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: illegal '
                              f"base64 data at input byte {bad}") from None


def _keys(field: str, data: dict) -> list[FieldError]:
    errors = []
    for key in data:
        errors += [FieldError("Invalid", f"{field}[{key}]", key, p) for p in names.config_key(key)]
    return errors


def _immutable(new: dict, old: dict, fields: tuple[str, ...]) -> list[FieldError]:
    errors = []
    if old.get("immutable"):
        if not new.get("immutable"):
            errors.append(FieldError("Forbidden", "immutable",
                                     detail="field is immutable when `immutable` is set"))
        for field in fields:
            if (new.get(field) or {}) != (old.get(field) or {}):
                errors.append(FieldError("Forbidden", field,
                                         detail="field is immutable when `immutable` is set"))
    return errors


class SecretStrategy(Strategy):
    """Secret semantics: ``stringData`` is write-only and merged into ``data``."""

    @staticmethod
    def _fold_string_data(obj: dict) -> None:
        _check_base64("Secret", obj.get("data") or {})
        string_data = obj.pop("stringData", None) or {}
        if string_data:
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()

    def prepare_create(self, cluster, obj):
        obj.setdefault("type", "Opaque")
        self._fold_string_data(obj)

    def prepare_update(self, cluster, new, old, subresource):
        super().prepare_update(cluster, new, old, subresource)
        new.setdefault("type", old.get("type", "Opaque"))
        self._fold_string_data(new)

    def validate(self, cluster, obj):
        errors = super().validate(cluster, obj)
        data = obj.get("data") or {}
        errors += _keys("data", data)
        if sum(len(k) + len(v) * 3 // 4 for k, v in data.items()) > MAX_SIZE:
            errors.append(FieldError("TooLong", "data", detail=f"must have at most {MAX_SIZE} "
                                                               "bytes"))
        return errors

    def validate_update(self, cluster, new, old):
        errors = _immutable(new, old, ("data",))
        if new.get("type") != old.get("type"):
            errors.append(FieldError("Invalid", "type", new.get("type"), "field is immutable"))
        return errors

    def table(self, cluster, obj):
        return ([column("Name", fmt="name"), column("Type"), column("Data", "integer"),
                 column("Age")],
                [obj["metadata"]["name"], obj.get("type", ""), len(obj.get("data") or {}),
                 age_cell(cluster, obj)])


class ConfigMapStrategy(Strategy):
    """ConfigMap semantics: string ``data`` plus base64 ``binaryData``."""

    def prepare_create(self, cluster, obj):
        _check_base64("ConfigMap", obj.get("binaryData") or {})

    def prepare_update(self, cluster, new, old, subresource):
        super().prepare_update(cluster, new, old, subresource)
        _check_base64("ConfigMap", new.get("binaryData") or {})

    def validate(self, cluster, obj):
        errors = super().validate(cluster, obj)
        data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
        errors += _keys("data", data) + _keys("binaryData", binary)
        for key in set(data) & set(binary):
            errors.append(FieldError("Invalid", "data", key, "duplicate of key present in "
                                                             "binaryData"))
        for key, value in data.items():
            if not isinstance(value, str):
                errors.append(FieldError("Invalid", f"data[{key}]", value, "must be a string"))
        if sum(len(k) + len(str(v)) for k, v in {**data, **binary}.items()) > MAX_SIZE:
            errors.append(FieldError("TooLong", "", detail=f"must have at most {MAX_SIZE} bytes"))
        return errors

    def validate_update(self, cluster, new, old):
        return _immutable(new, old, ("data", "binaryData"))

    def table(self, cluster, obj):
        count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
        return ([column("Name", fmt="name"), column("Data", "integer"), column("Age")],
                [obj["metadata"]["name"], count, age_cell(cluster, obj)])
