#!/usr/bin/env bash
# The console's browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright; browsers are
# never downloaded by a test tool. Install the Debian package when it is missing (root or sudo needed).
# Without it the browser tests skip locally and fail under CI=true.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "chromium: /usr/bin/chromium missing; installing Debian's chromium package" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null; }; then
  echo "chromium: could not install it (needs root); the browser tests will skip (CI=true: fail)" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
exit 0
