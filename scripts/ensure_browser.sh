#!/usr/bin/env bash
# The browser tests (tests/console, marker `live`) drive Debian's chromium through Playwright
# (`playwright install` cannot download a browser here). Install it when missing; idempotent.
set -euo pipefail
CHROMIUM="${PODS_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "ensure_browser: installing chromium (browser tests)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
    echo "ensure_browser: $CHROMIUM is missing and apt-get (as root) is not available; browser tests will be skipped" >&2
fi
