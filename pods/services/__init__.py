"""Service functions: every write to pods and their permissions goes through these."""
from .permissions import permission_lines, pod_permission_delete, pod_permission_set
from .pods import (
                   actor_of,
                   pod_create,
                   pod_delete,
                   pod_restart,
                   pod_start,
                   pod_stop,
                   pod_update,
)
from .storage import snapshot_delete, volume_delete
from .templated import pod_save_as_template_tag

__all__ = [
    "actor_of", "permission_lines", "pod_create", "pod_delete", "pod_permission_delete",
    "pod_permission_set", "pod_restart", "pod_save_as_template_tag", "pod_start", "pod_stop", "pod_update",
    "snapshot_delete", "volume_delete",
]
