#!/usr/bin/env bash
# Start the service's processes under honcho (Procfile), prefixing each line with its name.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "Pods Service on http://localhost:${PORT:-8000}  (docs: /docs, admin: /admin)"
exec .venv/bin/honcho start -f Procfile web worker beat
