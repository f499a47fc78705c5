#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed for the browser tests (test/e2e, driven by playwright-core;
# Playwright's own browser download cannot work on a closed network). Shared by `npm test` and .ci/run.
#
# Installed? → nothing to do. Root on Debian/Ubuntu? → apt-get installs it. Otherwise → exits 1 with the command.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing for the browser tests: run \`sudo apt-get update && sudo apt-get install -y chromium\`" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ "${GATEKEEPER_APT_UPDATED:-}" != "1" ]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends chromium </dev/null
command -v chromium >/dev/null 2>&1 || { echo "chromium is still missing after apt-get install" >&2; exit 1; }
