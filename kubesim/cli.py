"""``python -m kubesim``: serve a simulated cluster and write its kubeconfig."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from .config import Config
from .kubeconfig import write_kubeconfig
from .rbac.files import load_file
from .server import Server

log = logging.getLogger("kubesim")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m kubesim",
                                description="Kubernetes API simulator with a simulated kubelet.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=6443, help="TCP port (0 = any free port)")
    p.add_argument("--kubeconfig", help="write a kubeconfig for this server to PATH")
    p.add_argument("--namespace", default="default", help="namespace of the kubeconfig context")
    p.add_argument("--speed", type=float, default=1.0,
                   help="virtual seconds per wall second (default 1)")
    p.add_argument("--manual-clock", action="store_true",
                   help="freeze the clock; move it with POST /_kubesim/clock/advance")
    p.add_argument("--node-cpu", default="4", help="allocatable CPU of the node (quantity)")
    p.add_argument("--node-memory", default="16Gi", help="allocatable memory (quantity)")
    p.add_argument("--node-pods", type=int, default=110, help="max pods on the node")
    p.add_argument("--token", default="kubesim-token",
                   help="bearer token written to the kubeconfig; a wrong token gets 401 "
                        "('' disables auth)")
    p.add_argument("--require-auth", action="store_true",
                   help="also reject requests without credentials (kubectl sends none "
                        "over plain http)")
    p.add_argument("--rbac", action="store_true",
                   help="enforce RBAC: requests outside the loaded Roles get 403 Forbidden "
                        "(the admin token stays cluster-admin)")
    p.add_argument("--rbac-file", action="append", default=[], metavar="PATH",
                   help="YAML (e.g. `kubectl kustomize deploy/overlays/production` output) whose "
                        "Roles, ClusterRoles, bindings and ServiceAccounts are loaded; "
                        "Namespaces in it are created; other kinds are ignored (repeatable)")
    p.add_argument("--service-account", metavar="NAMESPACE/NAME",
                   help="the --kubeconfig authenticates as this loaded ServiceAccount instead "
                        "of the admin")
    p.add_argument("--history", type=int, default=100_000,
                   help="watch history length (older resourceVersions get 410)")
    p.add_argument("--fs-budget", default="2Gi",
                   help="bytes all simulated filesystems may hold together (quantity)")
    p.add_argument("--pod-cidr", default="10.244.0.0/16",
                   help="pod addresses (default 10.244.0.0/16: 65,534 pods; /12 for a million)")
    p.add_argument("--service-cidr", default="10.96.0.0/16",
                   help="ClusterIP range (default 10.96.0.0/16; Kubernetes allows up to a /12)")
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    config = Config(clock="manual" if args.manual_clock else "wall", speed=args.speed,
                    node_cpu_quantity=args.node_cpu, node_memory_quantity=args.node_memory,
                    node_pods=args.node_pods, token=args.token or None,
                    require_auth=args.require_auth, rbac=args.rbac,
                    history_size=args.history, fs_budget=args.fs_budget,
                    pod_cidr=args.pod_cidr, service_cidr=args.service_cidr)
    server = Server(config, args.host, args.port)
    await server.start()
    token = config.token
    for path in args.rbac_file:
        loaded = load_file(server.cluster, path)
        log.info("loaded %d RBAC objects from %s", len(loaded), path)
    if args.service_account:
        namespace, _, name = args.service_account.partition("/")
        token = server.cluster.access.issue_token(namespace, name)
    client_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    url = f"http://{client_host}:{server.port}"
    if args.kubeconfig:
        write_kubeconfig(args.kubeconfig, url, token, namespace=args.namespace)
        log.info("wrote kubeconfig %s", args.kubeconfig)
    log.info("kubesim serving %s (clock=%s, speed=%s)", url, config.clock, config.speed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("kubesim shutting down")
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args))
