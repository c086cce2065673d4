"""``ValidatePodSpec`` subset: the checks a client of this project can trip over."""

from __future__ import annotations

from .. import names
from ..errors import FieldError
from ..quantity import parse_quantity

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


def _resources(c: dict, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    res = c.get("resources") or {}
    values: dict[str, dict[str, float]] = {}
    for kind in ("limits", "requests"):
        for key, value in (res.get(kind) or {}).items():
            try:
                values.setdefault(kind, {})[key] = parse_quantity(value)
            except ValueError as exc:
                errors.append(FieldError("Invalid", f"{path}.resources.{kind}[{key}]", value,
                                         str(exc)))
                continue
            if values[kind][key] < 0:
                errors.append(FieldError("Invalid", f"{path}.resources.{kind}[{key}]", value,
                                         "must be greater than or equal to 0"))
    for key, req in (values.get("requests") or {}).items():
        lim = (values.get("limits") or {}).get(key)
        if lim is not None and req > lim:
            errors.append(FieldError("Invalid", f"{path}.resources.requests", res["requests"][key],
                                     f"must be less than or equal to {key} limit of "
                                     f"{res['limits'][key]}"))
    return errors


def _container(c: dict, path: str, volumes: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = c.get("name")
    if not name:
        errors.append(FieldError("Required", f"{path}.name"))
    else:
        errors += [FieldError("Invalid", f"{path}.name", name, p) for p in names.dns1123_label(name)]
    if not c.get("image"):
        errors.append(FieldError("Required", f"{path}.image"))
    policy = c.get("imagePullPolicy")
    if policy not in PULL_POLICIES:
        errors.append(FieldError("NotSupported", f"{path}.imagePullPolicy", policy,
                                 supported=PULL_POLICIES))
    for i, port in enumerate(c.get("ports") or []):
        ppath = f"{path}.ports[{i}]"
        number = port.get("containerPort")
        if not isinstance(number, int) or not 0 < number < 65536:
            errors.append(FieldError("Invalid" if number else "Required", f"{ppath}.containerPort",
                                     number, "must be between 1 and 65535, inclusive"
                                     if number else ""))
        if port.get("name"):
            errors += [FieldError("Invalid", f"{ppath}.name", port["name"], p)
                       for p in names.port_name(port["name"])]
        if port.get("protocol") not in PROTOCOLS:
            errors.append(FieldError("NotSupported", f"{ppath}.protocol", port.get("protocol"),
                                     supported=PROTOCOLS))
    for i, env in enumerate(c.get("env") or []):
        if not env.get("name"):
            errors.append(FieldError("Required", f"{path}.env[{i}].name"))
        else:
            errors += [FieldError("Invalid", f"{path}.env[{i}].name", env["name"], p)
                       for p in names.env_var_name(env["name"])]
    for i, mount in enumerate(c.get("volumeMounts") or []):
        if mount.get("name") not in volumes:
            errors.append(FieldError("NotFound", f"{path}.volumeMounts[{i}].name",
                                     mount.get("name")))
        if not mount.get("mountPath"):
            errors.append(FieldError("Required", f"{path}.volumeMounts[{i}].mountPath"))
    return errors + _resources(c, path)


def validate_spec(spec) -> list[FieldError]:
    """Validate a (defaulted) pod spec; returns field errors."""
    if not isinstance(spec, dict):
        return [FieldError("Required", "spec")]
    errors: list[FieldError] = []
    volumes: set[str] = set()
    for i, vol in enumerate(spec.get("volumes") or []):
        vname = vol.get("name")
        if not vname:
            errors.append(FieldError("Required", f"spec.volumes[{i}].name"))
            continue
        errors += [FieldError("Invalid", f"spec.volumes[{i}].name", vname, p)
                   for p in names.dns1123_label(vname)]
        if vname in volumes:
            errors.append(FieldError("Duplicate", f"spec.volumes[{i}].name", vname))
        volumes.add(vname)
    containers = spec.get("containers")
    if not containers:
        errors.append(FieldError("Required", "spec.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            path = f"spec.{key}[{i}]"
            if not isinstance(c, dict):
                errors.append(FieldError("Invalid", path, c, "must be an object"))
                continue
            errors += _container(c, path, volumes)
            if c.get("name") in seen:
                errors.append(FieldError("Duplicate", f"{path}.name", c["name"]))
            seen.add(c.get("name"))
    if spec.get("restartPolicy") not in RESTART_POLICIES:
        errors.append(FieldError("NotSupported", "spec.restartPolicy", spec.get("restartPolicy"),
                                 supported=RESTART_POLICIES))
    if spec.get("dnsPolicy") not in DNS_POLICIES:
        errors.append(FieldError("NotSupported", "spec.dnsPolicy", spec.get("dnsPolicy"),
                                 supported=DNS_POLICIES))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and (not isinstance(deadline, int) or deadline <= 0):
        errors.append(FieldError("Invalid", "spec.activeDeadlineSeconds", deadline,
                                 "must be between 1 and 2147483647, inclusive"))
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is not None and not isinstance(grace, int):
        errors.append(FieldError("Invalid", "spec.terminationGracePeriodSeconds", grace,
                                 "must be an integer"))
    return errors
