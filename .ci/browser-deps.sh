#!/usr/bin/env bash
# Install what the real-browser widget test needs on a fresh Debian machine (run as root):
#   - Debian's Chromium (/usr/bin/chromium); playwright never downloads a browser here;
#   - playwright-core from npm, pinned by tests/browser/package-lock.json, into
#     tests/browser/node_modules.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends nodejs npm
fi

if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

/usr/bin/chromium --version 2>/dev/null || true
echo "browser test dependencies ready: /usr/bin/chromium, node $(node --version), playwright-core $(node -p "require('./tests/browser/node_modules/playwright-core/package.json').version")"
