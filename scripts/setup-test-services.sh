#!/usr/bin/env bash
# Installs what the test suite runs against, when it is missing (idempotent, safe to re-run):
#   - PostgreSQL server binaries (tests start a throwaway server themselves, see tests/db_fixtures.py)
#   - Debian chromium (browser tests drive it with Playwright; never `playwright install`)
#   - the Node packages of the loopback FHIR test server (tools/fhir-test-server, npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing system packages: ${need_apt[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "installing ${need_apt[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ -f tools/fhir-test-server/package-lock.json && ! -d tools/fhir-test-server/node_modules ]]; then
  npm ci --prefix tools/fhir-test-server --no-audit --no-fund --loglevel=error
fi
