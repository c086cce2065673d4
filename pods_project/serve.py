"""The web server: granian serving ``pods_project.wsgi`` (``python -m pods_project.serve``).

One place for how the API is served, used by the Procfile (``make run``), the image, compose, the
manifests, the fault suite and the benchmarks; its flags override the environment's defaults:

    python -m pods_project.serve [--host 0.0.0.0] [--port $PORT|8000]
                                 [--workers $WEB_CONCURRENCY|2] [--threads $WEB_THREADS|16]
                                 [--no-access-log]

The server was chosen by measurement on the 2-core machine (``bench/api_load.py``: 32 clients,
mixed create/get/list/delete against the whole stack; figures in bench/README.md and
docs/performance.md). With gunicorn's gthread workers (2 x 16) the reads' p95 was 143-422 ms
and over 250 ms in 3 of 4 alternated runs; with granian (2 x 16) 139-185 ms in all 4, at the
same or higher throughput. granian's HTTP side (accepting, keep-alive, parsing, writing) is Rust
outside the GIL, so a process's Python threads spend the GIL on the application only; under
gunicorn the main thread's selector loop took a sixth of the web's GIL time, and its 32
keep-alive connections split unevenly between the two processes (19/13) from run to run.

- **One process per core** (``--workers``): request handling is Python, held by the GIL.
- **16 threads per process** (``--threads``, granian's blocking threads): enough to overlap the
  database and Redis waits under load; each thread keeps its own database connection
  (``DATABASE_CONN_MAX_AGE``), so a process holds up to that many.
- **A worker that dies is respawned** (granian's ``respawn_failed_workers``).
- **Forwarded headers** are believed only from ``PODS_FORWARDED_ALLOW_IPS``, never from anyone:
  :mod:`pods_project.forwarded`, wrapped around the application in ``pods_project.wsgi``.
"""
import argparse
import logging
import os


def options(argv=None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m pods_project.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=env.get("WEB_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(env.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(env.get("WEB_CONCURRENCY", "2")),
                        help="processes (default: WEB_CONCURRENCY or 2)")
    parser.add_argument("--threads", type=int, default=int(env.get("WEB_THREADS", "16")),
                        help="application threads per process (default: WEB_THREADS or 16)")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false",
                        help="no line per request on standard output")
    args = parser.parse_args(argv)
    for name in ("workers", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def server(args: argparse.Namespace):
    from granian.constants import Interfaces
    from granian.server import Server

    return Server(
        "pods_project.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=args.threads,
        runtime_threads=1,  # the Rust side's I/O threads per process: one is plenty for HTTP/1.1
        websockets=False,
        log_access=args.access_log,
        respawn_failed_workers=True,
        workers_kill_timeout=30,  # a graceful stop waits this long for requests in flight
    )


def _not_the_thread_count_warning(record: logging.LogRecord) -> bool:
    """granian warns about more Python threads than 2 x cores + 1: ours are measured (above)."""
    return "Python threads, which seems quite high" not in record.getMessage()


def main(argv=None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
    logging.getLogger("_granian").addFilter(_not_the_thread_count_warning)
    server(options(argv)).serve()


if __name__ == "__main__":
    main()
