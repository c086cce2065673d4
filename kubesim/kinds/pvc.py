"""PersistentVolumeClaims: Pending -> Bound, pvc-protection finalizer, expansion only.

A claim binds one virtual second after creation through a simulated dynamic
provisioner, which gives it a data volume (:meth:`kubesim.fs.manager.Filesystems.provision`;
a ``dataSource`` PVC is cloned).  Annotation ``kubesim.io/scenario: pending`` (or
``storageClassName: ""``) keeps it Pending.  Deleting a claim that a
non-terminated pod still mounts leaves it Terminating until the pod is gone,
exactly like ``kubernetes.io/pvc-protection``; its data goes with it (the
``standard`` class reclaims with ``Delete``).  Growing ``resources.requests.storage``
of a bound claim expands it online: after :data:`~kubesim.fs.manager.RESIZE_SECONDS`
the filesystem and ``status.capacity`` have the new size.
"""

from __future__ import annotations

from ..errors import FieldError
from ..fs.manager import RESIZE_SECONDS
from ..quantity import parse_quantity
from ..resources import RESOURCES
from ..strategy import Strategy
from ..tables import age_cell, column

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
FINALIZER = "kubernetes.io/pvc-protection"
DEFAULT_CLASS = "standard"
PROVISIONER = "kubesim.io/hostpath"
BIND_SECONDS = 1.0
IMMUTABLE_MESSAGE = ("spec is immutable after creation except resources.requests and "
                     "volumeAttributesClassName for bound claims")


class PVCStrategy(Strategy):
    """PersistentVolumeClaim semantics."""

    def prepare_create(self, cluster, obj):
        spec = obj.setdefault("spec", {})
        spec.setdefault("volumeMode", "Filesystem")
        if spec.get("storageClassName") is None:
            spec["storageClassName"] = DEFAULT_CLASS
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if FINALIZER not in finalizers:
            finalizers.append(FINALIZER)
        obj["status"] = {"phase": "Pending"}

    def validate(self, cluster, obj):
        errors = super().validate(cluster, obj)
        spec = obj.get("spec") or {}
        modes = spec.get("accessModes") or []
        if not modes:
            errors.append(FieldError("Required", "spec.accessModes",
                                     detail="at least 1 access mode is required"))
        for mode in modes:
            if mode not in ACCESS_MODES:
                errors.append(FieldError("NotSupported", "spec.accessModes", mode,
                                         supported=ACCESS_MODES))
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if storage is None:
            errors.append(FieldError("Required", "spec.resources[storage]"))
        else:
            try:
                if parse_quantity(storage) <= 0:
                    errors.append(FieldError("Invalid", "spec.resources[storage]", storage,
                                             "must be greater than zero"))
            except ValueError as exc:
                errors.append(FieldError("Invalid", "spec.resources[storage]", storage, str(exc)))
        return errors

    def validate_update(self, cluster, new, old):
        old_spec, new_spec = dict(old.get("spec") or {}), dict(new.get("spec") or {})
        old_req = (old_spec.pop("resources", None) or {}).get("requests") or {}
        new_req = (new_spec.pop("resources", None) or {}).get("requests") or {}
        if new_spec.get("volumeName") is None:
            new_spec.pop("volumeName", None)
            old_spec.pop("volumeName", None)
        if old_spec != new_spec:
            return [FieldError("Forbidden", "spec", detail=IMMUTABLE_MESSAGE)]
        try:
            if parse_quantity(new_req.get("storage", 0)) < parse_quantity(old_req.get("storage",
                                                                                      0)):
                return [FieldError("Forbidden", "spec.resources.requests.storage",
                                   detail="field can not be less than previous value")]
        except ValueError as exc:
            return [FieldError("Invalid", "spec.resources.requests.storage",
                               new_req.get("storage"), str(exc))]
        return []

    def after_create(self, cluster, obj):
        meta = obj["metadata"]
        if (meta.get("annotations") or {}).get("kubesim.io/scenario") == "pending" or \
                not obj["spec"].get("storageClassName"):
            return
        ns, name = meta["namespace"], meta["name"]
        cluster.clock.call_later(BIND_SECONDS, lambda: bind(cluster, ns, name, meta["uid"]))

    def after_update(self, cluster, new, old):
        if (new.get("status") or {}).get("phase") != "Bound":
            return
        requested = ((new.get("spec") or {}).get("resources") or {}).get("requests") or {}
        capacity = ((new.get("status") or {}).get("capacity") or {}).get("storage")
        try:
            grow = capacity is not None and parse_quantity(requested.get("storage", 0)) > \
                parse_quantity(capacity)
        except ValueError:
            grow = False
        if grow:
            meta = new["metadata"]
            cluster.clock.call_later(RESIZE_SECONDS, lambda: expand(
                cluster, meta["namespace"], meta["name"], meta["uid"]))

    def after_delete(self, cluster, obj):
        cluster.fs.release(obj["metadata"]["uid"])

    def table(self, cluster, obj):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        modes = ",".join({"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
                          "ReadWriteOncePod": "RWOP"}.get(m, m)
                         for m in status.get("accessModes") or [])
        return ([column("Name", fmt="name"), column("Status"), column("Volume"),
                 column("Capacity"), column("Access Modes"), column("StorageClass"),
                 column("VolumeAttributesClass"), column("Age"),
                 column("VolumeMode", priority=1)],
                [obj["metadata"]["name"], status.get("phase", ""), spec.get("volumeName", ""),
                 (status.get("capacity") or {}).get("storage", ""), modes,
                 spec.get("storageClassName") or "", "<unset>", age_cell(cluster, obj),
                 spec.get("volumeMode", "")])


def bind(cluster, namespace: str, name: str, uid: str) -> None:
    """The simulated provisioner created a volume: bind the claim."""
    stored = cluster.store.get("persistentvolumeclaims", namespace, name)
    if stored is None:
        return
    pvc = stored.obj()
    if pvc["metadata"]["uid"] != uid or pvc["metadata"].get("deletionTimestamp"):
        return
    volume = f"pvc-{uid}"
    annotations = pvc["metadata"].setdefault("annotations", {})
    annotations.update({"pv.kubernetes.io/bind-completed": "yes",
                        "pv.kubernetes.io/bound-by-controller": "yes",
                        "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER,
                        "volume.kubernetes.io/storage-provisioner": PROVISIONER})
    pvc["spec"]["volumeName"] = volume
    pvc["status"] = {"phase": "Bound", "accessModes": pvc["spec"].get("accessModes", []),
                     "capacity": {"storage": pvc["spec"]["resources"]["requests"]["storage"]}}
    cluster.fs.provision(pvc)
    cluster.persist(RESOURCES["persistentvolumeclaims"], pvc)
    cluster.events.record(pvc, "PersistentVolumeClaim", "Normal", "ProvisioningSucceeded",
                          f"Successfully provisioned volume {volume}",
                          component=f"{PROVISIONER}_{cluster.config.node_name}")
    cluster.scheduler.kick()


def expand(cluster, namespace: str, name: str, uid: str) -> None:
    """The resizer and the kubelet grew the volume: new capacity in the filesystem and status."""
    stored = cluster.store.get("persistentvolumeclaims", namespace, name)
    if stored is None:
        return
    pvc = stored.obj()
    if pvc["metadata"]["uid"] != uid or (pvc.get("status") or {}).get("phase") != "Bound":
        return
    storage = pvc["spec"]["resources"]["requests"]["storage"]
    if pvc["status"].get("capacity", {}).get("storage") == storage:
        return
    cluster.fs.resize(uid, storage)
    pvc["status"]["capacity"] = {"storage": storage}
    pvc["status"].pop("conditions", None)
    cluster.persist(RESOURCES["persistentvolumeclaims"], pvc)
    cluster.events.record(pvc, "PersistentVolumeClaim", "Normal", "FileSystemResizeSuccessful",
                          f"MountVolume.NodeExpandVolume succeeded for volume "
                          f"\"{pvc['spec'].get('volumeName', '')}\" {cluster.config.node_name}",
                          component="kubelet")


def release_if_unused(cluster, namespace: str, name: str) -> None:
    """pvc-protection controller: drop the finalizer once no live pod mounts the claim."""
    stored = cluster.store.get("persistentvolumeclaims", namespace, name)
    if stored is None:
        return
    pvc = stored.obj()
    if not pvc["metadata"].get("deletionTimestamp") or FINALIZER not in \
            (pvc["metadata"].get("finalizers") or []):
        return
    for pod_stored in cluster.store.iter("pods", namespace):
        pod = pod_stored.obj()
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            if (volume.get("persistentVolumeClaim") or {}).get("claimName") == name:
                return
    pvc["metadata"]["finalizers"].remove(FINALIZER)
    if pvc["metadata"]["finalizers"]:
        cluster.persist(RESOURCES["persistentvolumeclaims"], pvc)
    else:
        cluster.remove(RESOURCES["persistentvolumeclaims"], pvc)
