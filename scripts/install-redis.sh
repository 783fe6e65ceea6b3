#!/usr/bin/env bash
# Installs Debian's redis-server for `ltx start` (which runs its own when REDIS_URL is unset).
# Needs root for apt-get; does nothing when redis-server is already there. Never installs node/npm.
# The package also enables a system service on :6379; ltx doesn't use it, its own runs apart.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  echo "install-redis: ok ($(redis-server --version | head -c 60))"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-redis: redis-server is missing; run as root or: sudo apt-get install -y redis-server" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
echo "install-redis: ok ($(redis-server --version | head -c 60))"
