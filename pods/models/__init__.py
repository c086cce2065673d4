"""Models of the pods app, one module per resource."""
from .credentials import PodCredentials
from .events import PodEvent, PodEventKind
from .logs import PodLogRun
from .permissions import PodPermission
from .pods import Pod, PodQuerySet, k8s_name, visible_pod
from .secrets import PodSecret, SecretPermission, SecretScope
from .usage import PodUsage, UsageScope
from .volumes import (
    Snapshot,
    SnapshotPermission,
    StorageEvent,
    StorageServer,
    StorageStatus,
    Volume,
    VolumePermission,
)

__all__ = [
    "Pod", "PodCredentials", "PodEvent", "PodEventKind", "PodLogRun", "PodPermission",
    "PodQuerySet", "PodSecret", "PodUsage", "UsageScope", "SecretPermission", "SecretScope", "Snapshot", "SnapshotPermission",
    "StorageEvent", "StorageServer", "StorageStatus", "Volume", "VolumePermission", "k8s_name",
    "visible_pod",
]
