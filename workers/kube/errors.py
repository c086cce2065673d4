"""Our own errors for Kubernetes API failures; nothing outside workers/kube sees ApiException."""


class KubeError(Exception):
    """Any failure talking to the Kubernetes API."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = ""):
        super().__init__(message)
        self.status = status
        self.reason = reason


class TransientKubeError(KubeError):
    """Worth retrying: 429, 5xx, timeouts, refused or dropped connections."""

    def __init__(self, message, *, status=None, reason="", retry_after: float | None = None):
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after


class ClusterUnavailable(TransientKubeError):
    """The API server did not answer at all (connection refused, timeout, outage)."""


class PermanentKubeError(KubeError):
    """The API server refused the request (400, 401, 403, 415, 422): retrying will not help."""


class NotFound(KubeError):
    pass


class AlreadyExists(KubeError):
    pass


class Conflict(KubeError):
    """409 on update: the object changed since it was read."""
