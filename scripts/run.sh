#!/usr/bin/env bash
# Start the service's processes (web, the three workers, beat, and the cluster watcher) from the
# Procfile under scripts/supervise.py, which prefixes each line with its process's name and
# restarts any process that exits (honcho stopped everything instead). Ctrl-C stops them all.
# Without a kubeconfig (KUBECONFIG unset and no ~/.kube/config) it also starts kubesim, the
# Kubernetes API simulator, and points the worker and beat at it.
set -euo pipefail
cd "$(dirname "$0")/.."
processes=(web worker sweeper bulk beat watcher)
if [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ]; then
  export KUBESIM_PORT="${KUBESIM_PORT:-6443}"
  export KUBESIM_TOKEN="${KUBESIM_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')}"
  export KUBECONFIG="$PWD/.run/kubesim.kubeconfig"
  # Written now so the worker finds it at once; kubesim writes the same file when it starts.
  .venv/bin/python -c "import kubesim, sys; kubesim.write_kubeconfig(sys.argv[1], sys.argv[2], sys.argv[3])" \
    "$KUBECONFIG" "http://127.0.0.1:$KUBESIM_PORT" "$KUBESIM_TOKEN"
  processes+=(kubesim)
  cat <<BANNER
========================================================================================
  No kubeconfig found: running kubesim, a Kubernetes API SIMULATOR, on 127.0.0.1:$KUBESIM_PORT.
  Pods go through their whole lifecycle (and kubectl works: KUBECONFIG=$KUBECONFIG),
  but NO REAL CONTAINERS RUN and pod URLs lead nowhere.
  To use a real cluster, export KUBECONFIG=/path/to/kubeconfig (or create ~/.kube/config)
  and run \`make run\` again (or use docker compose, which brings k3s).
========================================================================================
BANNER
else
  echo "Using the Kubernetes cluster of ${KUBECONFIG:-$HOME/.kube/config}"
fi
# One Prometheus directory for every process of this run, emptied at start (core/metrics.py).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/.run/metrics}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
echo "Pods Service on http://localhost:${PORT:-8000}  (docs: /docs, admin: /admin/, metrics: /metrics)"
exec .venv/bin/python scripts/supervise.py -f Procfile "${processes[@]}"
