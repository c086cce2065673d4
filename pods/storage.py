"""The storage backend interface the pods services use, and the setting that picks it.

The services never talk to Kubernetes (``pods`` may not import ``workers``): they call the
backend named by ``PODS_STORAGE_BACKEND`` (a dotted path, like Django's ``EMAIL_BACKEND``),
loaded lazily with ``import_string``. The production backend is ``workers.storage.KubeStorage``,
which execs into the tenant's storage server pod.

Every method takes the tenant and paths relative to the tenant's storage root (``volumes/<uid>``
+ a path cleaned by :func:`podspec.paths.clean_relative_path`); the backend confines them to
the object's root once more (``realpath`` in the container), so a symlink cannot escape.
"""
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class FileEntry:
    path: str
    name: str
    type: str  # file | dir | symbolic_link | other
    size: int
    last_modified: str  # %Y-%m-%dT%H:%M:%SZ
    native_permissions: str


@dataclass(frozen=True)
class CommandResult:
    command: list
    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool
    duration_sec: float


class StorageBackend:
    """What the services need from storage. Paths: ``root`` is the object's directory relative
    to the tenant's storage root (``volumes/<uid>``), ``path`` relative to ``root``."""

    def usage(self, tenant, root: str) -> int:
        """Bytes used below ``root`` (``du -sb``)."""
        raise NotImplementedError

    def list_files(self, tenant, root: str, path: str = "") -> list[FileEntry]:
        raise NotImplementedError

    def kind_of(self, tenant, root: str, path: str) -> str:
        """``file``, ``dir`` or ``missing`` (after resolving symlinks inside ``root``)."""
        raise NotImplementedError

    def read_file(self, tenant, root: str, path: str) -> Iterator[bytes]:
        raise NotImplementedError

    def read_tar(self, tenant, root: str, path: str) -> Iterator[bytes]:
        """A tar stream of the directory ``path`` (members relative to it)."""
        raise NotImplementedError

    def write_file(self, tenant, root: str, path: str, chunks: Iterable[bytes], *, max_bytes: int) -> int:
        """Write ``chunks`` to ``path`` (parents created); refuse past ``max_bytes``. Returns bytes written."""
        raise NotImplementedError

    def copy(self, tenant, source: str, destination: str) -> None:
        """A true copy (``cp -a``) of ``source`` to ``destination`` (both below the tenant root)."""
        raise NotImplementedError

    def make_dir(self, tenant, root: str) -> None:
        """Create the directory ``root`` (and parents); nothing if it exists."""
        raise NotImplementedError

    def exec_in_pod(self, pod_name: str, commands: list[list[str]], *, command_timeout: float,
                    total_timeout: float, stop_on_failure: bool, output_cap: int) -> list[CommandResult]:
        """Run each argv in the pod's main container, in order."""
        raise NotImplementedError

    def upload_to_pod(self, pod_name: str, dest_path: str, chunks: Iterable[bytes], *, max_bytes: int) -> int:
        raise NotImplementedError


@lru_cache(maxsize=4)
def _backend(dotted: str) -> StorageBackend:
    return import_string(dotted)()


def storage_backend() -> StorageBackend:
    """The configured backend (one instance per process and setting)."""
    return _backend(settings.PODS_STORAGE_BACKEND)
