#!/usr/bin/env bash
# Makes sure `redis-server` is installed: the development Redis (bin/embedded-redis.ts) and the test suites
# (test/support/redis-server.ts) run it. Shared by `npm start` and .ci/run.
#
# Installed? → nothing to do. Root on Debian/Ubuntu? → apt-get installs it (non-interactive; no stdin needed).
# Otherwise → exits 1 with the one command a person should run.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "redis-server is missing: run \`sudo apt-get update && sudo apt-get install -y redis-server\`" >&2
  else
    echo "redis-server is missing: install Redis 7 (e.g. \`brew install redis\`) so that redis-server is on PATH" >&2
  fi
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# The Debian package starts a system-wide Redis on port 6379 when it can; Gatekeeper runs its own, so keep
# the package from starting one (policy-rc.d exit 101 = "action forbidden"), and restore things after.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi

if [ "${GATEKEEPER_APT_UPDATED:-}" != "1" ]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends redis-server </dev/null

command -v redis-server >/dev/null 2>&1 || { echo "redis-server is still missing after apt-get install" >&2; exit 1; }
echo "redis-server installed: $(redis-server --version)"
