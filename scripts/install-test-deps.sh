#!/usr/bin/env bash
# Installs the system packages the tests need (Debian): a real redis-server for the queue and
# store tests, chromium for the browser test. Needs root for apt-get; skips what is already there. Never installs node/npm.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# Debian's chromium for the browser test (test/e2e/browser.test.ts drives it with playwright-core,
# which never downloads a browser of its own); about 30 s to install.
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: missing ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# The Debian package starts a redis-server on port 6379 as a service; tests start their own on
# free ports and never use it.
echo "install-test-deps: ok ($(redis-server --version | head -c 60))"
