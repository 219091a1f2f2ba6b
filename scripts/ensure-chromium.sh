#!/usr/bin/env bash
# The page tests drive Debian's Chromium (/usr/bin/chromium, or $INBOX_CHROMIUM); install it
# when it is missing. Nothing else is downloaded: the tests never fetch a browser of their own.
set -euo pipefail
if [ -n "${INBOX_CHROMIUM:-}" ] || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  echo "chromium: /usr/bin/chromium is missing: apt-get update && apt-get install -y chromium"
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "chromium: /usr/bin/chromium is missing: sudo apt-get update && sudo apt-get install -y chromium"
  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
else
  echo "chromium: /usr/bin/chromium is missing and this user cannot install it (not root, no sudo);"
  echo "chromium: the page tests will fail: run \`apt-get install -y chromium\` as root"
fi
