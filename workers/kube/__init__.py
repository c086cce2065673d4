"""The only package that imports `kubernetes`: client, verbs, manifests, errors."""
from .errors import (
                     AlreadyExists,
                     ClusterUnavailable,
                     Conflict,
                     KubeError,
                     NotFound,
                     PermanentKubeError,
                     TransientKubeError,
)

__all__ = ["AlreadyExists", "ClusterUnavailable", "Conflict", "KubeError", "NotFound", "PermanentKubeError",
           "TransientKubeError"]
