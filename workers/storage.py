"""``KubeStorage``: the storage backend (:mod:`pods.storage`) that execs into the tenant's
storage server pod. Used by the web (file operations, snapshots) and the worker.

Every user path reaches the container as a positional argument of a fixed script (never
spliced into it), and the script resolves it with ``realpath`` and refuses anything outside the
object's root: ``..`` is refused before (podspec.paths), and a symlink a pod wrote that points
elsewhere is refused here (exit 40 → 400). Missing paths exit 44 (→ 404).
"""
import posixpath
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from django.conf import settings

from core.errors import InvalidInput, NotFound, TooLarge, Unavailable
from pods.storage import CommandResult, FileEntry, StorageBackend
from workers.kube import errors as kube_errors
from workers.kube import exec as kube_exec
from workers.kube.manifests import EXPORT_ROOT, storage_server_name

ESCAPE, MISSING = 40, 44
# $1: the object's root below /exports; $2: the path below it. Sets $real (inside the root).
GUARD = (f'root="{EXPORT_ROOT}/$1"; [ -d "$root" ] || exit {MISSING}; '
         'real=$(realpath -m "$root/$2") || exit 1; '
         f'case "$real" in "$root"|"$root"/*) ;; *) echo "path escapes its volume" >&2; exit {ESCAPE};; esac; ')
TYPES = {"f": "file", "d": "dir", "l": "symbolic_link"}


def _pod(tenant) -> str:
    return storage_server_name(tenant.site_id, tenant.tenant_id)


def _check(code, err: bytes, path: str):
    if code == 0:
        return
    if code == ESCAPE:
        raise InvalidInput({"path": [f"{path!r} leads outside the volume (through a symbolic link)."]})
    if code == MISSING:
        raise NotFound(f"No such file or directory: {path!r}.")
    text = err.decode(errors="replace").strip()
    if "No space left on device" in text:
        raise TooLarge("The tenant's storage is full (its storage quota is used up).")
    raise Unavailable(f"The storage server failed: {text[:300] or f'exit {code}'}")


def _exec(tenant, script: str, *args, timeout: float | None = None, stdin: bytes | None = None) -> bytes:
    try:
        out, err, code, timed_out = kube_exec.run(
            _pod(tenant), ["sh", "-c", script, "sh", *args], stdin=stdin,
            timeout=timeout or settings.PODS_STORAGE_EXEC_TIMEOUT, output_cap=settings.PODS_STORAGE_LIST_MAX_BYTES)
    except kube_errors.KubeError as exc:
        raise Unavailable(f"The storage server of tenant '{tenant.tenant_id}' is not reachable: {exc}") from exc
    if timed_out:
        raise Unavailable("The storage server did not answer in time.")
    _check(code, err, args[1] if len(args) > 1 else "")
    return out


class _Writer:
    """An upload in progress: ``cat`` into a temporary name, renamed into place on commit."""

    def __init__(self, tenant, root: str, path: str, max_bytes: int):
        self.tenant, self.root, self.path, self.max_bytes = tenant, root, path, max_bytes
        self.token = secrets.token_hex(8)
        self.tmp = f".pods-upload-{self.token}"
        # First the target is checked (inside the root, parents created, not a directory), then
        # stdin is streamed into a temporary file next to it, renamed into place on commit.
        prep = (GUARD + 'dir=$(dirname "$real"); mkdir -p "$dir"; '
                'd=$(realpath "$dir"); case "$d" in "$root"|"$root"/*) ;; *) exit 40;; esac; '
                '[ -d "$real" ] && { echo "is a directory" >&2; exit 21; }; printf %s "$d"')
        try:
            self.dir = _exec(tenant, prep, root, path).decode()
        except Unavailable as exc:
            if "is a directory" in str(exc):
                raise InvalidInput({"path": [f"{path!r} is a directory."]}) from None
            raise
        try:
            self.stdin = kube_exec.StdinWriter(_pod(tenant), ["sh", "-c", 'cat > "$1/$2"', "sh", self.dir, self.tmp],
                                               timeout=settings.PODS_STORAGE_TRANSFER_TIMEOUT)
        except kube_errors.KubeError as exc:
            raise Unavailable(f"The storage server of tenant '{tenant.tenant_id}' is not reachable: {exc}") from exc
        self.written = 0

    def write(self, data: bytes) -> None:
        if self.written + len(data) > self.max_bytes:
            self.abort()
            raise TooLarge(f"The upload is larger than allowed here ({self.max_bytes} bytes: the upload cap "
                           "or the room left below the volume's size_limit).",
                           metadata={"max_bytes": self.max_bytes})
        self.written += len(data)
        try:
            self.stdin.write(data)
        except OSError:  # the command ended early (storage full, server gone): say why
            code, output = self.stdin.finish()
            self._cleanup()
            _check(code if code else 1, output, self.path)

    def _cleanup(self):
        try:
            _exec(self.tenant, 'rm -f "$1/$2"', self.dir, self.tmp)
        except (Unavailable, NotFound, InvalidInput):
            pass  # the next storage pass removes stray temporary files

    def abort(self) -> None:
        self.stdin.abort()
        self._cleanup()

    def commit(self) -> int:
        code, output = self.stdin.finish()
        if code != 0:
            self._cleanup()
            _check(code if code is not None else 1, output, self.path)
        # The target is checked again at the rename (a pod may have changed the tree meanwhile).
        _exec(self.tenant, GUARD + 'mv -f "$4/$3" "$real"', self.root, self.path, self.tmp, self.dir)
        return self.written


class KubeStorage(StorageBackend):
    """Files of volumes and snapshots through exec in the tenant's storage server pod."""

    def make_dir(self, tenant, root):
        _exec(tenant, f'mkdir -p "{EXPORT_ROOT}/$1"', root)

    def resolve_dir(self, tenant, root, path) -> str:
        """``path``'s real location below ``root`` (symlinks resolved, escapes refused); 404 unless a directory."""
        out = _exec(tenant, GUARD + '[ -d "$real" ] || exit 44; printf %s "${real#$root}"', root, path)
        return out.decode().lstrip("/")

    def usage(self, tenant, root):
        out = _exec(tenant, GUARD + 'du -sb "$root"', root, "")
        return int(out.split()[0]) if out.strip() else 0

    def kind_of(self, tenant, root, path):
        out = _exec(tenant, GUARD + 'if [ -d "$real" ]; then echo dir; elif [ -f "$real" ]; then echo file; '
                                    'else echo missing; fi', root, path)
        return out.decode().strip()

    def list_files(self, tenant, root, path=""):
        out = _exec(tenant, GUARD + '[ -d "$real" ] || exit 44; '
                                    "find \"$real\" -mindepth 1 -printf '%y\\t%s\\t%T@\\t%m\\t%P\\0'",
                    root, path)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            kind, size, mtime, mode, rel = record.decode(errors="replace").split("\t", 4)
            full = posixpath.join(path, rel) if path else rel
            stamp = datetime.fromtimestamp(float(mtime), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            entries.append(FileEntry(path=full, name=posixpath.basename(rel), type=TYPES.get(kind, "other"),
                                     size=int(size), last_modified=stamp, native_permissions=_mode_string(kind, mode)))
        entries.sort(key=lambda e: e.path)
        return entries

    def _stream(self, tenant, script, root, path) -> Iterator[bytes]:
        try:
            yield from kube_exec.stream_stdout(_pod(tenant), ["sh", "-c", GUARD + script, "sh", root, path],
                                               timeout=settings.PODS_STORAGE_TRANSFER_TIMEOUT)
        except kube_errors.KubeError as exc:
            # Headers are sent: the client sees a truncated body; the log says why.
            raise Unavailable(f"Download from the storage server broke off: {exc}") from exc

    def read_file(self, tenant, root, path):
        return self._stream(tenant, 'exec cat "$real"', root, path)

    def read_tar(self, tenant, root, path):
        return self._stream(tenant, 'if [ -d "$real" ]; then exec tar -C "$real" -cf - .; else '
                                    'exec tar -C "$(dirname "$real")" -cf - "$(basename "$real")"; fi', root, path)

    def open_writer(self, tenant, root, path, *, max_bytes):
        return _Writer(tenant, root, path, max_bytes)

    def write_file(self, tenant, root, path, chunks: Iterable[bytes], *, max_bytes):
        writer = self.open_writer(tenant, root, path, max_bytes=max_bytes)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def copy(self, tenant, source, destination, *, source_path="", destination_path=""):
        # $1/$2: the source (guarded); $3: the snapshot root; $4: the destination below it.
        script = (GUARD + '[ -e "$real" ] || exit 44; dst="' + EXPORT_ROOT + '/$3"; mkdir -p "$dst"; '
                  'if [ -d "$real" ] && [ -z "$4" ]; then cp -a "$real/." "$dst/"; '
                  'else t="$dst/${4:-$(basename "$real")}"; mkdir -p "$(dirname "$t")"; cp -a "$real" "$t"; fi')
        _exec(tenant, script, source, source_path, destination, destination_path,
              timeout=settings.PODS_STORAGE_TRANSFER_TIMEOUT)

    def remove_stray(self, tenant, keep_fn) -> list[str]:
        """Remove directories under ``volumes/`` and ``snapshots/`` whose uid ``keep_fn()`` does not list.

        ``keep_fn`` is called *after* the listing: a volume's row commits before its directory is
        made, so a directory seen here whose row is not found then is really stray (a new volume's
        directory is never mistaken for a deleted one's).
        """
        out = _exec(tenant, f'cd "{EXPORT_ROOT}" && mkdir -p volumes snapshots && ls -1 volumes snapshots', "", "")
        keep = keep_fn()
        removed, section = [], None
        for line in out.decode().splitlines():
            if line.endswith(":"):
                section = line[:-1]
                continue
            if line and section in keep and line not in keep[section]:
                _exec(tenant, f'rm -rf "{EXPORT_ROOT}/$1"', f"{section}/{line}")
                removed.append(f"{section}/{line}")
        return removed

    def exec_in_pod(self, pod_name, commands, *, command_timeout, total_timeout, stop_on_failure, output_cap):
        import time

        results, deadline = [], time.monotonic() + total_timeout
        for argv in commands:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            started = time.monotonic()
            try:
                out, err, code, timed_out = kube_exec.run(pod_name, argv, container="pod",
                                                          timeout=min(command_timeout, remaining),
                                                          output_cap=output_cap)
            except kube_exec.ExecFailed as exc:
                out, err, code, timed_out = b"", str(exc).encode(), 126, False
            except kube_errors.KubeError as exc:
                raise Unavailable(f"Could not exec into the pod: {exc}") from exc
            results.append(CommandResult(command=argv, stdout=out.decode(errors="replace"),
                                         stderr=err.decode(errors="replace"), exit_code=code, timed_out=timed_out,
                                         duration_sec=round(time.monotonic() - started, 3)))
            if stop_on_failure and (timed_out or code != 0):
                break
        return results

    def open_pod_writer(self, pod_name, *, max_bytes):
        return _PodWriter(pod_name, max_bytes)


class _PodWriter:
    """An upload into a running pod: streamed into a temporary file of its main container, then
    moved to ``dest_path`` (known only once the multipart body is read: tapipy may send it last)."""

    def __init__(self, pod_name: str, max_bytes: int):
        self.pod, self.max_bytes, self.written = pod_name, max_bytes, 0
        self.tmp = f"/tmp/.pods-upload-{secrets.token_hex(8)}"
        try:
            self.stdin = kube_exec.StdinWriter(pod_name, ["sh", "-c", 'cat > "$1"', "sh", self.tmp], container="pod",
                                               timeout=settings.PODS_STORAGE_TRANSFER_TIMEOUT)
        except kube_errors.KubeError as exc:
            raise Unavailable(f"Could not exec into the pod: {exc}") from exc

    def write(self, data: bytes) -> None:
        if self.written + len(data) > self.max_bytes:
            self.abort()
            raise TooLarge(f"The upload is larger than PODS_UPLOAD_MAX_BYTES ({self.max_bytes} bytes).",
                           metadata={"max_bytes": self.max_bytes})
        self.written += len(data)
        try:
            self.stdin.write(data)
        except OSError:
            code, output = self.stdin.finish()
            self._run(["rm", "-f", self.tmp])
            raise InvalidInput({"file": [f"The pod stopped reading the upload: "
                                         f"{output.decode(errors='replace').strip()[:300] or f'exit {code}'}"]}) from None

    def _run(self, argv):
        try:
            return kube_exec.run(self.pod, argv, container="pod", timeout=settings.PODS_STORAGE_EXEC_TIMEOUT)
        except kube_errors.KubeError as exc:
            raise Unavailable(f"Could not exec into the pod: {exc}") from exc

    def abort(self) -> None:
        self.stdin.abort()
        try:
            self._run(["rm", "-f", self.tmp])
        except Unavailable:
            pass

    def commit(self, dest_path: str) -> int:
        code, output = self.stdin.finish()
        if code == 0:
            _, err, code, _ = self._run(["sh", "-c", 'mkdir -p "$(dirname "$2")" && mv -f "$1" "$2"', "sh",
                                         self.tmp, dest_path])
            output = err
        if code != 0:
            self._run(["rm", "-f", self.tmp])
            raise InvalidInput({"dest_path": [f"Could not write {dest_path!r} in the pod: "
                                              f"{output.decode(errors='replace').strip()[:300]}"]})
        return self.written


def _mode_string(kind: str, mode: str) -> str:
    bits = int(mode, 8)
    chars = "".join(flag if bits & (1 << (8 - i)) else "-" for i, flag in enumerate("rwxrwxrwx"))
    return {"d": "d", "l": "l"}.get(kind, "-") + chars
