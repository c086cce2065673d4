"""Filesystem errors: an errno plus the glibc/musl text that tools print.

The texts are spelled out rather than taken from ``os.strerror`` so that the
messages a simulated container prints do not depend on the host's libc.
"""

from __future__ import annotations

import errno

MESSAGES = {
    errno.EPERM: "Operation not permitted",
    errno.ENOENT: "No such file or directory",
    errno.EIO: "Input/output error",
    errno.EBADF: "Bad file descriptor",
    errno.EACCES: "Permission denied",
    errno.EBUSY: "Device or resource busy",
    errno.EEXIST: "File exists",
    errno.EXDEV: "Invalid cross-device link",
    errno.ENOTDIR: "Not a directory",
    errno.EISDIR: "Is a directory",
    errno.EINVAL: "Invalid argument",
    errno.EFBIG: "File too large",
    errno.ENOSPC: "No space left on device",
    errno.EROFS: "Read-only file system",
    errno.EPIPE: "Broken pipe",
    errno.ENAMETOOLONG: "File name too long",
    errno.ENOTEMPTY: "Directory not empty",
    errno.ELOOP: "Too many levels of symbolic links",
    errno.ESTALE: "Stale file handle",
    errno.ENOEXEC: "Exec format error",
    errno.ETXTBSY: "Text file busy",
}


class FsError(Exception):
    """A failed filesystem operation (``errno`` plus the path it concerned)."""

    def __init__(self, code: int, path: str = ""):
        self.errno = code
        self.path = path
        super().__init__(f"{path}: {self.strerror}" if path else self.strerror)

    @property
    def strerror(self) -> str:
        """The libc message (``No space left on device``)."""
        return MESSAGES.get(self.errno, f"Unknown error {self.errno}")
