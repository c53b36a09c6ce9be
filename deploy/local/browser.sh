#!/usr/bin/env bash
# Makes sure a headless Chromium from Debian's packages is installed, for the tests that drive
# the decision pages in a real browser (Playwright uses this executable; it downloads nothing).
#
#   deploy/local/browser.sh install    install chromium if missing
#   deploy/local/browser.sh path       print the executable's path
set -euo pipefail

find_chromium() {
  command -v chromium || command -v chromium-browser || true
}

case "${1:-install}" in
  install)
    if [[ -z "$(find_chromium)" ]]; then
      echo "browser.sh: installing chromium from Debian's packages"
      if [[ $(id -u) -ne 0 ]]; then
        echo "browser.sh: run as root (or install the 'chromium' package yourself)" >&2
        exit 1
      fi
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq chromium >/dev/null
    fi
    find_chromium
    ;;
  path) find_chromium ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
