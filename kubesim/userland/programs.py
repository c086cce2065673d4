"""What a scenario image's main process leaves in its container's filesystem.

``kubesim/web`` "serves HTTP on port 5000": it writes its pid file and a log
line when the container starts, so ``kubectl exec web -- cat /run/web.pid``
and ``tail /var/log/web.log`` see what a real web server would leave behind.
The files are written (stamped with the container's start time) when the
container's filesystem is first needed, so idle pods cost nothing.
"""

from __future__ import annotations

from ..fs.vfs import FsView


def web(view: FsView, started: float) -> None:
    """The ``web`` scenario's server process (pid 1)."""
    view.mkdir("/var/log", parents=True)
    for path, text in (("/run/web.pid", "1\n"),
                       ("/var/log/web.log", "kubesim/web: listening on 0.0.0.0:5000\n")):
        handle = view.open_write(path)
        handle.write(text.encode())
        handle.node.mtime = handle.node.ctime = started


PROGRAMS = {"web": web}
