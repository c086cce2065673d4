"""The node's storage: container filesystems, pod volumes, PVC data, NFS mounts.

Everything is created lazily: a container's filesystem (image clone, mounts,
environment) exists only once something needs it - an exec, a scenario
program's files, an NFS client of the pod.  Ten thousand idle pods cost
nothing here.

* **Container writable layer** - a clone of :mod:`~kubesim.fs.image` plus
  ``/etc/hostname``, ``/etc/hosts``, ``/etc/resolv.conf`` and the
  ``workingDir``; a restarted container gets a fresh one.
* **emptyDir** - one per pod volume, shared by the pod's containers, gone
  with the pod; ``sizeLimit`` is its capacity (``medium: Memory`` is tmpfs).
* **configMap / secret / downwardAPI / projected** - read-only, see
  :mod:`~kubesim.fs.projection`.
* **persistentVolumeClaim** - the claim's data volume (:meth:`provision` at
  bind), capacity ``resources.requests.storage``, shared by every pod that
  mounts it, destroyed when the claim is removed (reclaim policy Delete).
* **nfs** - ``server`` (a Service ClusterIP or DNS name, or a pod IP) picks a
  ready pod behind the Service (the container exposing port 2049, else the
  first); ``path`` is resolved in *that* container's filesystem, so an
  export living on the server's PVC is the PVC's data, with its capacity.
* **hostPath** - a directory of the single node's filesystem.
"""

from __future__ import annotations

import base64
import errno
import ipaddress
import logging
from dataclasses import dataclass, field

from ..clock import parse_time
from ..quantity import parse_quantity
from ..scenarios import image_repository
from . import image
from .errors import FsError
from .nodes import Budget, Dir, File, Node, Symlink, Volume, clone
from .projection import Projection, field_value, resource_value
from .vfs import FsView, Mount, MountNamespace, normalize

log = logging.getLogger("kubesim")
NODE_DISK = 100 * 2 ** 30
CLUSTER_DOMAIN = "cluster.local"
DNS_SERVICE_IP = "10.96.0.10"
RESIZE_SECONDS = 1.0


class MountFailure(Exception):
    """A volume cannot be set up (kubelet ``FailedMount``)."""


@dataclass
class ContainerFs:
    """One container instance's mount namespace and environment (both lazy)."""

    namespace: MountNamespace | None = None
    env: dict | None = None


@dataclass
class PodFs:
    """Per-pod storage state: pod-scoped volumes and container filesystems."""

    uid: str
    volumes: dict[str, Volume] = field(default_factory=dict)
    containers: dict[str, ContainerFs] = field(default_factory=dict)


def _bytes(quantity) -> int | None:
    if quantity in (None, ""):
        return None
    try:
        return int(parse_quantity(quantity))
    except ValueError:
        return None


class Filesystems:
    """Owns every simulated filesystem of the cluster (``cluster.fs``)."""

    def __init__(self, cluster, applets, programs):
        self.cluster = cluster
        self.budget = Budget(_bytes(cluster.config.fs_budget) or 2 * 2 ** 30)
        self.applets = tuple(applets)
        self.programs = programs
        self.pods: dict[tuple[str, str], PodFs] = {}
        self.claims: dict[str, Volume] = {}
        self._node: Volume | None = None

    def now(self) -> float:
        """Virtual time (file timestamps)."""
        return self.cluster.clock.now()

    # -- claims ----------------------------------------------------------------
    def provision(self, pvc: dict) -> Volume:
        """Create the data volume of a newly bound claim (cloning a ``dataSource`` PVC)."""
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        uid = meta["uid"]
        if uid in self.claims:
            return self.claims[uid]
        capacity = _bytes(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
        root = Dir(0o777, mtime=self.now())
        volume = Volume(root, self.budget, fstype="ext4", source=f"/dev/pvc-{uid[:8]}",
                        capacity=capacity)
        source = spec.get("dataSourceRef") or spec.get("dataSource") or {}
        if source.get("kind") == "PersistentVolumeClaim" and not source.get("apiGroup"):
            origin = self.claim_volume(meta["namespace"], source.get("name", ""))
            if origin is not None:
                volume.root = clone(origin.root)
                try:
                    volume.charge(origin.used)
                except FsError:
                    log.warning("clone of %s does not fit in %s", source.get("name"),
                                meta["name"])
                    volume.root = root
        self.claims[uid] = volume
        return volume

    def claim_volume(self, namespace: str, claim: str) -> Volume | None:
        """The data of a bound claim by name."""
        stored = self.cluster.store.get("persistentvolumeclaims", namespace, claim)
        if stored is None:
            return None
        return self.claims.get(stored.obj()["metadata"]["uid"])

    def resize(self, uid: str, quantity) -> None:
        """Expansion finished: the filesystem has the new capacity."""
        volume = self.claims.get(uid)
        capacity = _bytes(quantity)
        if volume is not None and capacity is not None and capacity > (volume.capacity or 0):
            volume.capacity = capacity

    def release(self, uid: str) -> None:
        """The claim is gone: delete its data (reclaimPolicy Delete)."""
        volume = self.claims.pop(uid, None)
        if volume is not None:
            volume.destroy()

    # -- pod lifecycle ---------------------------------------------------------
    def container_started(self, namespace: str, pod: str, container: str) -> None:
        """A new container instance: its writable layer starts from the image again."""
        pfs = self.pods.get((namespace, pod))
        if pfs is not None:
            cfs = pfs.containers.pop(container, None)
            if cfs is not None and cfs.namespace is not None:
                cfs.namespace.root.volume.destroy()

    def forget_pod(self, namespace: str, pod: str) -> None:
        """The pod is gone: drop its containers' layers and its emptyDirs."""
        pfs = self.pods.pop((namespace, pod), None)
        if pfs is None:
            return
        for cfs in pfs.containers.values():
            if cfs.namespace is not None:
                cfs.namespace.root.volume.destroy()
        for volume in pfs.volumes.values():
            volume.destroy()

    def reset(self) -> None:
        """Forget everything (cluster reset)."""
        for key in list(self.pods):
            self.forget_pod(*key)
        for uid in list(self.claims):
            self.release(uid)
        if self._node is not None:
            self._node.destroy()
            self._node = None
        self.budget.used = 0

    # -- lookups ---------------------------------------------------------------
    def _pod(self, namespace: str, pod: str) -> dict:
        stored = self.cluster.store.get("pods", namespace, pod)
        if stored is None:
            raise MountFailure(f'pods "{pod}" not found')
        return stored.obj()

    def _pod_fs(self, namespace: str, pod: dict) -> PodFs:
        key = (namespace, pod["metadata"]["name"])
        pfs = self.pods.get(key)
        if pfs is None or pfs.uid != pod["metadata"]["uid"]:
            if pfs is not None:
                self.forget_pod(*key)
            pfs = self.pods[key] = PodFs(pod["metadata"]["uid"])
        return pfs

    def namespace(self, namespace: str, pod: str, container: str) -> MountNamespace:
        """The mount namespace of a container, built on first use."""
        obj = self._pod(namespace, pod)
        pfs = self._pod_fs(namespace, obj)
        cfs = pfs.containers.setdefault(container, ContainerFs())
        if cfs.namespace is None:
            cfs.namespace = self._build(obj, pfs, container)
        return cfs.namespace

    def environment(self, namespace: str, pod: str, container: str) -> dict:
        """The container's environment (image defaults, service links, env, envFrom)."""
        obj = self._pod(namespace, pod)
        pfs = self._pod_fs(namespace, obj)
        cfs = pfs.containers.setdefault(container, ContainerFs())
        if cfs.env is None:
            cfs.env = self._environment(obj, container)
        return dict(cfs.env)

    def credentials(self, pod: dict, container: str) -> tuple[int, int, tuple[int, ...]]:
        """``(uid, gid, supplementary groups)`` processes of the container run with."""
        spec = pod.get("spec") or {}
        psc = spec.get("securityContext") or {}
        csc = _container(pod, container).get("securityContext") or {}
        uid = csc.get("runAsUser", psc.get("runAsUser", 0)) or 0
        gid = csc.get("runAsGroup", psc.get("runAsGroup", 0)) or 0
        groups = tuple(psc.get("supplementalGroups") or ())
        if psc.get("fsGroup") is not None:
            groups += (psc["fsGroup"],)
        return int(uid), int(gid), groups

    def _instance_started(self, namespace: str, pod: str, container: str) -> float:
        rt = self.cluster.kubelet.get(namespace, pod)
        c = rt.container(container) if rt else None
        if c is not None and c.current is not None:
            return c.current.started
        return self.now()

    # -- building a container's view ------------------------------------------
    def _build(self, pod: dict, pfs: PodFs, container: str) -> MountNamespace:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        started = self._instance_started(namespace, name, container)
        root = clone(image.template(self.applets))
        image.stamp(root, started)
        rootfs = Volume(root, self.budget, size_hint=NODE_DISK)
        ns = MountNamespace(Mount("/", rootfs), self.now)
        view = FsView(ns)
        hostname = spec.get("hostname") or name
        ip = (pod.get("status") or {}).get("podIP", "")
        fqdn = (f"{hostname}.{spec['subdomain']}.{namespace}.svc.{CLUSTER_DOMAIN}"
                if spec.get("subdomain") else "")
        files = {
            "/etc/hostname": hostname + "\n",
            "/etc/hosts": ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
                           "::1\tlocalhost ip6-localhost ip6-loopback\n"
                           + (f"{ip}\t{fqdn + chr(9) if fqdn else ''}{hostname}\n" if ip
                              else "")),
            "/etc/resolv.conf": (f"search {namespace}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} "
                                 f"{CLUSTER_DOMAIN}\nnameserver {DNS_SERVICE_IP}\n"
                                 "options ndots:5\n"),
        }
        for path, text in files.items():
            handle = view.open_write(path)
            handle.write(text.encode())
            handle.node.mtime = handle.node.ctime = started
        c = _container(pod, container)
        for path, uid, gid in image.user_homes(c.get("image", "")):
            view.mkdir(path, 0o755, parents=True)
            view.chown(path, uid, gid)
        workdir = c.get("workingDir")
        if workdir:
            try:
                view.mkdir(normalize(workdir), 0o755, parents=True)
            except FsError:
                pass
        mounts = sorted(c.get("volumeMounts") or [],
                        key=lambda m: normalize(m.get("mountPath") or "/").count("/"))
        volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        for vm in mounts:
            volume = volumes.get(vm.get("name"))
            path = normalize(vm.get("mountPath") or "/")
            if volume is None or path == "/":
                continue
            try:
                mount = self._mount(pod, pfs, volume, vm, path, container)
            except (MountFailure, FsError) as exc:
                log.info("kubesim: volume %s of %s/%s not mounted: %s", volume.get("name"),
                         namespace, name, exc)
                dead = Volume(Dir(0o755), self.budget, fstype="nfs4", source="(unavailable)")
                dead.destroyed = True
                mount = Mount(path, dead)
            self._mountpoint(ns, path, isinstance(mount.root, Dir))
            ns.add_mount(mount)
        program = self._program(namespace, name, container)
        if program is not None:
            uid, gid, groups = self.credentials(pod, container)
            program(FsView(ns, c.get("workingDir") or "/", uid, gid, groups), started)
        return ns

    def _program(self, namespace: str, pod: str, container: str):
        # The main process of a kubesim/<name> image (whatever its scenario) leaves files.
        rt = self.cluster.kubelet.get(namespace, pod)
        c = rt.container(container) if rt else None
        if c is None or not c.instances:
            return None
        repo = image_repository(c.image)
        if not (repo.startswith("kubesim/") or "/kubesim/" in repo):
            return None
        return self.programs.get(repo.rsplit("/", 1)[-1])

    @staticmethod
    def _mountpoint(ns: MountNamespace, path: str, want_dir: bool) -> None:
        # runc creates missing mountpoints, even below a read-only mount.
        view = FsView(ns)
        parts = [p for p in path.split("/") if p]
        current = ""
        for i, part in enumerate(parts):
            parent = current or "/"
            current = f"{current}/{part}"
            try:
                view.walk(current)
                continue
            except FsError as exc:
                if exc.errno != errno.ENOENT:
                    raise
            loc = view.walk(parent)
            if not isinstance(loc.node, Dir) or loc.node.source is not None:
                raise FsError(errno.ENOTDIR, current)
            last = i == len(parts) - 1
            loc.node.children[part] = Dir(0o755) if want_dir or not last else File(b"")

    def _mount(self, pod: dict, pfs: PodFs, volume: dict, vm: dict, path: str,
               container: str) -> Mount:
        readonly = bool(vm.get("readOnly"))
        source_volume, root, ro, source = self._volume(pod, pfs, volume, container)
        sub = vm.get("subPath") or ""
        if vm.get("subPathExpr"):
            env = self._environment(pod, container)
            sub = _expand_env(vm["subPathExpr"], env)
        if sub:
            parts = [p for p in sub.split("/") if p and p != "."]
            if ".." in parts or sub.startswith("/"):
                raise MountFailure(f"subPath {sub!r} must not contain '..' or be absolute")
            found = _lookup_in(root, parts)
            if found is None:
                if ro or source_volume.readonly or not isinstance(root, Dir):
                    raise MountFailure(f"subPath {sub!r} does not exist")
                found = root
                for part in parts:
                    nxt = found.children.get(part) if isinstance(found, Dir) else None
                    if nxt is None:
                        nxt = found.children[part] = Dir(0o755, mtime=self.now())
                    found = nxt
            root = found
            if isinstance(root, File) and source_volume.fstype == "tmpfs" and ro:
                # A projected key mounted with subPath is a copy: it never updates.
                root = File(bytes(root.data), root.perm, root.uid, root.gid, root.mtime)
        return Mount(path, source_volume, root, readonly or ro, source)

    def _volume(self, pod: dict, pfs: PodFs, volume: dict,
                container: str) -> tuple[Volume, Node, bool, str | None]:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        namespace, vname = meta["namespace"], volume.get("name", "")
        fs_group = (spec.get("securityContext") or {}).get("fsGroup")
        if "persistentVolumeClaim" in volume:
            ref = volume["persistentVolumeClaim"] or {}
            data = self.claim_volume(namespace, ref.get("claimName", ""))
            if data is None:
                raise MountFailure(f'persistentvolumeclaim "{ref.get("claimName")}" not bound')
            _apply_fs_group(data.root, fs_group)
            return data, data.root, bool(ref.get("readOnly")), None
        if "nfs" in volume:
            ref = volume["nfs"] or {}
            data, node = self.nfs_export(ref.get("server", ""), ref.get("path", "/"))
            return data, node, bool(ref.get("readOnly")), \
                f"{ref.get('server')}:{ref.get('path', '/')}"
        if "hostPath" in volume:
            ref = volume["hostPath"] or {}
            node_fs = self.node_volume()
            view = FsView(MountNamespace(Mount("/", node_fs), self.now))
            path = normalize(ref.get("path") or "/")
            kind = ref.get("type") or ""
            if not view.exists(path):
                if kind in ("Directory", "File", "Socket", "CharDevice", "BlockDevice"):
                    raise MountFailure(f"hostPath type check failed: {path} is not a "
                                       f"{kind.lower()}")
                if kind == "FileOrCreate":
                    view.mkdir(path.rsplit("/", 1)[0] or "/", parents=True)
                    view.open_write(path)
                else:
                    view.mkdir(path, 0o755, parents=True)
            return node_fs, view.walk(path).node, False, node_fs.source
        existing = pfs.volumes.get(vname)
        if existing is not None:
            return existing, existing.root, existing.readonly, None
        now = self.now()
        if "emptyDir" in volume:
            ref = volume["emptyDir"] or {}
            memory = ref.get("medium") == "Memory"
            data = Volume(Dir(0o777, mtime=now), self.budget, fstype="tmpfs" if memory else "ext4",
                          source="tmpfs" if memory else "/dev/vda1",
                          capacity=_bytes(ref.get("sizeLimit")), size_hint=NODE_DISK)
            _apply_fs_group(data.root, fs_group)
        else:
            sources = _projection_sources(volume)
            root = Dir(0o1777 if "secret" in volume else 0o777, mtime=now)
            data = Volume(root, self.budget, fstype="tmpfs", source="tmpfs", readonly=True,
                          size_hint=int(self.cluster.config.node_memory))
            if sources is not None:
                mode = (volume.get("projected") or volume.get("configMap")
                        or volume.get("secret") or volume.get("downwardAPI") or {}) \
                    .get("defaultMode")
                root.source = Projection(self.cluster.store, namespace, meta["name"],
                                         sources, mode, self.now, self._node_allocatable())
            else:
                log.info("kubesim: volume type of %s is not simulated; mounting an empty "
                         "read-only directory", vname)
        pfs.volumes[vname] = data
        return data, data.root, data.readonly, None

    def _node_allocatable(self) -> dict:
        cfg = self.cluster.config
        return {"cpu": cfg.node_cpu_quantity, "memory": cfg.node_memory_quantity,
                "ephemeral-storage": "100Gi"}

    def node_volume(self) -> Volume:
        """The node's own filesystem (hostPath volumes)."""
        if self._node is None:
            self._node = Volume(Dir(0o755, mtime=self.now()), self.budget, fstype="ext4",
                                source="/dev/vda1", size_hint=NODE_DISK)
        return self._node

    # -- NFS ------------------------------------------------------------------
    def _service(self, server: str) -> dict | None:
        store = self.cluster.store
        try:
            ipaddress.ip_address(server)
            is_ip = True
        except ValueError:
            is_ip = False
        if is_ip:
            for stored in store.iter("services"):
                svc = stored.obj()
                if server in ((svc.get("spec") or {}).get("clusterIPs") or []):
                    return svc
            return None
        host = server.rstrip(".")
        for suffix in (f".svc.{CLUSTER_DOMAIN}", ".svc"):
            if host.endswith(suffix):
                host = host[:-len(suffix)]
                break
        name, _, namespace = host.partition(".")
        if not namespace or "." in namespace:
            return None
        stored = store.get("services", namespace, name)
        return stored.obj() if stored is not None else None

    def _pod_by_ip(self, ip: str) -> dict | None:
        for rt in self.cluster.kubelet.pods.values():
            if rt.pod_ip == ip:
                stored = self.cluster.store.get("pods", rt.namespace, rt.name)
                return stored.obj() if stored is not None else None
        return None

    def endpoints(self, service: dict) -> list[dict]:
        """Ready pods behind a Service, by name (what its Endpoints would list)."""
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector:
            return []
        out = []
        namespace = service["metadata"]["namespace"]
        for stored in self.cluster.store.iter("pods", namespace):
            labels = stored.labels or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            pod = stored.obj()
            if _ready(pod):
                out.append(pod)
        return out

    def nfs_export(self, server: str, path: str) -> tuple[Volume, Node]:
        """Resolve an NFS ``server:path`` to the directory (and volume) it exports."""
        mount_args = (f"Mounting command: mount\nMounting arguments: -t nfs {server}:{path} "
                      f"/var/lib/kubelet/pods/volumes/kubernetes.io~nfs\n")
        svc = self._service(server)
        if svc is not None:
            backends = self.endpoints(svc)
        else:
            pod = self._pod_by_ip(server)
            backends = [pod] if pod is not None and _ready(pod) else []
        if not backends:
            raise MountFailure(f"mount failed: exit status 32\n{mount_args}"
                               f"Output: mount.nfs: Connection timed out")
        backend = backends[0]
        containers = (backend.get("spec") or {}).get("containers") or []
        chosen = next((c for c in containers if any(p.get("containerPort") == 2049
                                                    for p in c.get("ports") or [])),
                      containers[0] if containers else None)
        if chosen is None:
            raise MountFailure(f"mount failed: exit status 32\n{mount_args}"
                               f"Output: mount.nfs: Connection refused")
        meta = backend["metadata"]
        ns = self.namespace(meta["namespace"], meta["name"], chosen["name"])
        try:
            loc = FsView(ns).walk(path or "/")
        except FsError:
            loc = None
        if loc is None or not isinstance(loc.node, Dir):
            raise MountFailure(f"mount failed: exit status 32\n{mount_args}"
                               f"Output: mount.nfs: access denied by server while mounting "
                               f"{server}:{path}")
        return loc.mount.volume, loc.node

    def mount_problem(self, namespace: str, volume: dict) -> str | None:
        """Why a pod volume cannot be set up now (``FailedMount``), if so."""
        if "nfs" in volume:
            ref = volume["nfs"] or {}
            try:
                self.nfs_export(ref.get("server", ""), ref.get("path", "/"))
            except MountFailure as exc:
                return str(exc)
        if "hostPath" in volume:
            ref = volume["hostPath"] or {}
            kind = ref.get("type") or ""
            if kind in ("Directory", "File"):
                view = FsView(MountNamespace(Mount("/", self.node_volume()), self.now))
                path = normalize(ref.get("path") or "/")
                try:
                    node = view.walk(path).node
                except FsError:
                    node = None
                if node is None or (kind == "Directory") != isinstance(node, Dir):
                    return (f"hostPath type check failed: {path} is not a "
                            f"{'directory' if kind == 'Directory' else 'file'}")
        return None

    # -- environment ---------------------------------------------------------
    def _environment(self, pod: dict, container: str) -> dict:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        namespace = meta["namespace"]
        c = _container(pod, container)
        uid, _, _ = self.credentials(pod, container)
        env = {"PATH": image.PATH, "HOSTNAME": spec.get("hostname") or meta["name"]}
        started = self._instance_started(namespace, meta["name"], container)
        links = [("default", "kubernetes")]
        for stored in self.cluster.store.iter("services", namespace):
            if spec.get("enableServiceLinks", True) and (namespace, stored.name) not in links:
                links.append((namespace, stored.name))
        for svc_ns, svc_name in links:
            stored = self.cluster.store.get("services", svc_ns, svc_name)
            if stored is None:
                continue
            svc = stored.obj()
            created = svc["metadata"].get("creationTimestamp")
            if created and _epoch(created) > started + 1:
                continue
            env.update(_service_env(svc))
        for source in c.get("envFrom") or []:
            prefix = source.get("prefix") or ""
            for kind, ref in (("secrets", source.get("secretRef")),
                              ("configmaps", source.get("configMapRef"))):
                if not ref:
                    continue
                stored = self.cluster.store.get(kind, namespace, ref.get("name", ""))
                if stored is None:
                    continue
                obj = stored.obj()
                for key, value in (obj.get("data") or {}).items():
                    env[prefix + key] = _decode(value) if kind == "secrets" else str(value)
        for item in c.get("env") or []:
            name = item.get("name")
            if not name:
                continue
            if "value" in item or "valueFrom" not in item:
                env[name] = _expand_env(str(item.get("value") or ""), env)
                continue
            value = self._value_from(pod, c, item.get("valueFrom") or {})
            if value is not None:
                env[name] = value
        env.setdefault("HOME", "/root" if uid == 0 else "/")
        return env

    def _value_from(self, pod: dict, c: dict, ref: dict) -> str | None:
        namespace = pod["metadata"]["namespace"]
        for kind, key in (("secrets", "secretKeyRef"), ("configmaps", "configMapKeyRef")):
            if key in ref:
                sel = ref[key] or {}
                stored = self.cluster.store.get(kind, namespace, sel.get("name", ""))
                if stored is None:
                    return None
                data = stored.obj().get("data") or {}
                if sel.get("key") not in data:
                    return None
                value = data[sel["key"]]
                return _decode(value) if kind == "secrets" else str(value)
        if "fieldRef" in ref:
            return field_value(pod, (ref["fieldRef"] or {}).get("fieldPath", ""))
        if "resourceFieldRef" in ref:
            sel = ref["resourceFieldRef"] or {}
            return resource_value(pod, sel.get("containerName") or c.get("name"),
                                  sel.get("resource", ""), sel.get("divisor"),
                                  self._node_allocatable())
        return None


def _container(pod: dict, name: str) -> dict:
    spec = pod.get("spec") or {}
    every = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    return next((c for c in every if c.get("name") == name), {})


def _lookup_in(root: Node, parts: list[str]) -> Node | None:
    """Resolve a relative path inside a volume, following its symlinks (never above it)."""
    stack = [root]
    todo = list(reversed(parts))
    hops = 0
    while todo:
        part = todo.pop()
        if part == "..":
            if len(stack) > 1:
                stack.pop()
            continue
        cur = stack[-1]
        if not isinstance(cur, Dir):
            return None
        if cur.source is not None:
            cur.source.refresh(cur)
        nxt = cur.children.get(part)
        if nxt is None:
            return None
        if isinstance(nxt, Symlink):
            hops += 1
            if hops > 40:
                return None
            if nxt.target.startswith("/"):
                del stack[1:]
            todo.extend(reversed([p for p in nxt.target.split("/") if p and p != "."]))
            continue
        stack.append(nxt)
    return stack[-1]


def _ready(pod: dict) -> bool:
    status = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in status.get("conditions") or [])


def _projection_sources(volume: dict) -> list[tuple[str, dict]] | None:
    for kind in ("configMap", "secret", "downwardAPI"):
        if kind in volume:
            return [(kind, volume[kind] or {})]
    if "projected" in volume:
        out = []
        for source in (volume["projected"] or {}).get("sources") or []:
            for kind in ("configMap", "secret", "downwardAPI"):
                if kind in source:
                    out.append((kind, source[kind] or {}))
        return out
    return None


def _apply_fs_group(root: Node, fs_group) -> None:
    # kubelet: chown the volume to fsGroup, g+rwX, setgid on directories.
    if fs_group is None or root.gid == fs_group:
        return
    todo = [root]
    while todo:
        node = todo.pop()
        node.gid = int(fs_group)
        node.mode |= 0o2070 if isinstance(node, Dir) else 0o060
        if isinstance(node, Dir):
            todo.extend(node.children.values())


def _decode(value: str) -> str:
    try:
        return base64.b64decode(value).decode(errors="replace")
    except (ValueError, TypeError):
        return ""


def _epoch(ts: str) -> float:
    try:
        return parse_time(ts)
    except ValueError:
        return 0.0


def _expand_env(text: str, env: dict) -> str:
    # $(VAR) references to earlier variables; $$(VAR) escapes.
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i) and ")" in text[i:]:
            end = text.index(")", i)
            name = text[i + 2:end]
            out.append(env[name] if name in env else text[i:end + 1])
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _service_env(svc: dict) -> dict:
    spec = svc.get("spec") or {}
    ip = spec.get("clusterIP")
    if not ip or ip == "None":
        return {}
    prefix = svc["metadata"]["name"].upper().replace("-", "_")
    ports = spec.get("ports") or []
    env = {f"{prefix}_SERVICE_HOST": ip}
    if not ports:
        return env
    first = ports[0]
    env[f"{prefix}_SERVICE_PORT"] = str(first.get("port"))
    for port in ports:
        if port.get("name"):
            env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = \
                str(port.get("port"))
    proto = (first.get("protocol") or "TCP").lower()
    env[f"{prefix}_PORT"] = f"{proto}://{ip}:{first.get('port')}"
    for port in ports:
        proto = (port.get("protocol") or "TCP")
        base = f"{prefix}_PORT_{port.get('port')}_{proto}"
        env[base] = f"{proto.lower()}://{ip}:{port.get('port')}"
        env[base + "_PROTO"] = proto.lower()
        env[base + "_PORT"] = str(port.get("port"))
        env[base + "_ADDR"] = ip
    return env
