"""ConfigMap, Secret, downwardAPI and projected volumes as files.

Laid out the way the kubelet's atomic writer does it: the files live in a
timestamped directory (``..2026_01_02_03_04_05.000000001``), ``..data`` is a
symlink to it, and every top-level entry is a symlink through ``..data``::

    /etc/config/mode -> ..data/mode
    /etc/config/..data -> ..2026_01_02_03_04_05.000000001

The tree is rebuilt whenever a source object's resourceVersion changes (the
kubelet does it within its sync period; kubesim on the next access), so
updates show up while ``subPath`` mounts keep the file they started with.  A
source deleted after the mount keeps its last content, as on a node.
"""

from __future__ import annotations

import base64
import math
from datetime import datetime, timezone

from ..quantity import parse_quantity
from .nodes import Dir, File, Symlink

DEFAULT_MODE = 0o644


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value)
    except (ValueError, TypeError):
        return b""


def _quote(value: str) -> str:
    # Go's %q for the label/annotation files of a downwardAPI volume.
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def field_value(pod: dict, path: str) -> str | None:
    """A ``fieldRef.fieldPath`` of a pod (downward API)."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, \
        pod.get("status") or {}
    if path.startswith("metadata.labels[") or path.startswith("metadata.annotations["):
        bucket = "labels" if "labels" in path else "annotations"
        key = path.split("[", 1)[1].rstrip("]").strip("'\"")
        return (meta.get(bucket) or {}).get(key, "")
    if path in ("metadata.labels", "metadata.annotations"):
        bucket = meta.get(path.split(".", 1)[1]) or {}
        return "".join(f"{k}={_quote(v)}\n" for k, v in sorted(bucket.items())).rstrip("\n")
    simple = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
              "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"),
              "status.hostIP": status.get("hostIP"), "status.podIP": status.get("podIP"),
              "status.hostIPs": ",".join(i.get("ip", "") for i in status.get("hostIPs") or []),
              "status.podIPs": ",".join(i.get("ip", "") for i in status.get("podIPs") or [])}
    if path in simple:
        return simple[path] or ""
    return None


def resource_value(pod: dict, container: str | None, resource: str, divisor: str | None,
                   node: dict) -> str:
    """A ``resourceFieldRef`` value: requests/limits of a container, rounded up."""
    containers = (pod.get("spec") or {}).get("containers") or []
    c = next((c for c in containers if c.get("name") == container), containers[0]
             if containers else {})
    kind, _, name = resource.partition(".")
    res = (c.get("resources") or {}).get(kind) or {}
    raw = res.get(name)
    if raw is None and kind == "limits":
        raw = node.get(name, "0")
    if raw is None:
        raw = "0"
    try:
        value = parse_quantity(raw)
        div = parse_quantity(divisor) if divisor else 1.0
    except ValueError:
        return "0"
    if div <= 0:
        div = 1.0
    return str(int(math.ceil(value / div - 1e-12)))


class Projection:
    """Source of a projected directory: rebuilds it when its objects change."""

    def __init__(self, store, namespace: str, pod_name: str, sources: list[dict],
                 default_mode: int | None, now, node_allocatable: dict):
        self.store = store
        self.namespace = namespace
        self.pod_name = pod_name
        self.sources = sources
        self.default_mode = DEFAULT_MODE if default_mode is None else default_mode
        self.now = now
        self.node = node_allocatable
        self.version: tuple | None = None
        self.generation = 0
        self.size = 0

    def _version(self) -> tuple:
        parts = []
        for kind, source in self.sources:
            if kind == "downwardAPI":
                name, plural = self.pod_name, "pods"
            else:
                plural = "secrets" if kind == "secret" else "configmaps"
                name = source.get("secretName" if kind == "secret" else "name") or \
                    source.get("name", "")
            stored = self.store.get(plural, self.namespace, name)
            parts.append((plural, name, stored.rv if stored is not None else None))
        return tuple(parts)

    def _keyed(self, kind: str, source: dict, obj: dict) -> dict[str, tuple[bytes, int]]:
        if kind == "secret":
            data = {k: _b64(v) for k, v in (obj.get("data") or {}).items()}
        else:
            data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
            data.update({k: _b64(v) for k, v in (obj.get("binaryData") or {}).items()})
        mode = source.get("defaultMode", self.default_mode)
        items = source.get("items")
        if not items:
            return {key: (value, mode) for key, value in data.items()}
        out = {}
        for item in items:
            if item.get("key") in data:
                out[item.get("path") or item["key"]] = (data[item["key"]],
                                                        item.get("mode", mode))
        return out

    def _downward(self, source: dict, pod: dict) -> dict[str, tuple[bytes, int]]:
        out = {}
        mode = source.get("defaultMode", self.default_mode)
        for item in source.get("items") or []:
            path = item.get("path")
            if not path:
                continue
            if item.get("fieldRef"):
                value = field_value(pod, item["fieldRef"].get("fieldPath", ""))
            elif item.get("resourceFieldRef"):
                ref = item["resourceFieldRef"]
                value = resource_value(pod, ref.get("containerName"), ref.get("resource", ""),
                                       ref.get("divisor"), self.node)
            else:
                value = None
            if value is not None:
                out[path] = (value.encode(), item.get("mode", mode))
        return out

    def collect(self) -> dict[str, tuple[bytes, int]] | None:
        """Files the volume should hold now; ``None`` keeps the current content."""
        files: dict[str, tuple[bytes, int]] = {}
        for kind, source in self.sources:
            if kind == "downwardAPI":
                stored = self.store.get("pods", self.namespace, self.pod_name)
                if stored is None:
                    return None
                files.update(self._downward(source, stored.obj()))
                continue
            plural = "secrets" if kind == "secret" else "configmaps"
            name = source.get("secretName" if kind == "secret" else "name") or \
                source.get("name", "")
            stored = self.store.get(plural, self.namespace, name)
            if stored is None:
                if source.get("optional"):
                    continue
                return None
            files.update(self._keyed(kind, source, stored.obj()))
        return files

    def refresh(self, root: Dir) -> None:
        """Bring ``root`` up to date with the sources (cheap when nothing changed)."""
        version = self._version()
        if version == self.version:
            return
        self.version = version
        files = self.collect()
        if files is None:
            return
        now = self.now()
        stamp = datetime.fromtimestamp(int(now), tz=timezone.utc).strftime("%Y_%m_%d_%H_%M_%S")
        self.generation += 1
        tsname = f"..{stamp}.{self.generation:09d}"
        data_dir = Dir(0o755, mtime=now)
        size = 0
        for rel, (content, mode) in sorted(files.items()):
            parts = [p for p in rel.split("/") if p and p not in (".", "..")]
            if not parts:
                continue
            cur = data_dir
            for part in parts[:-1]:
                nxt = cur.children.get(part)
                if not isinstance(nxt, Dir):
                    nxt = cur.children[part] = Dir(0o755, mtime=now)
                cur = nxt
            cur.children[parts[-1]] = File(content, mode & 0o7777, mtime=now)
            size += len(content)
        tops = sorted(data_dir.children)
        root.children.clear()
        root.children[tsname] = data_dir
        root.children["..data"] = Symlink(tsname, mtime=now)
        for name in tops:
            root.children[name] = Symlink(f"..data/{name}", mtime=now)
        root.mtime = now
        self.size = size
