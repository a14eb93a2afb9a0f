#!/usr/bin/env bash
# Debian's Chromium for the headless browser tests (Playwright drives it through
# executable_path=/usr/bin/chromium). Never `playwright install`: that downloads
# a browser build from a host this machine cannot reach.
set -euo pipefail
CHROMIUM=${POSEBENCH_CHROMIUM:-/usr/bin/chromium}
if [[ -x "$CHROMIUM" ]]; then
    echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")" >&2
    exit 0
fi
SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "chromium: ERROR: $CHROMIUM is missing; install Debian's chromium package as root" >&2; exit 1; }
    SUDO="sudo"
fi
echo "chromium: installing Debian's chromium package (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
[[ -x "$CHROMIUM" ]] || { echo "chromium: ERROR: apt-get finished but $CHROMIUM is still missing" >&2; exit 1; }
echo "chromium: $("$CHROMIUM" --version 2>/dev/null)" >&2
