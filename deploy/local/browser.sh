#!/usr/bin/env bash
# Makes sure a headless Chromium from Debian's packages is installed, for the tests that drive
# the decision pages in a real browser (Playwright uses this executable; it downloads nothing).
#
#   deploy/local/browser.sh install    install chromium if missing ("✓ Chromium ready (<path>)";
#                                      apt-get's output goes to .local/logs/setup.log)
#   deploy/local/browser.sh path       print the executable's path
set -euo pipefail

# shellcheck source=deploy/local/steps.sh
source "$(dirname "$0")/steps.sh"

find_chromium() {
  command -v chromium || command -v chromium-browser || true
}

case "${1:-install}" in
  install)
    if [[ -z "$(find_chromium)" ]]; then
      [[ $(id -u) -eq 0 ]] ||
        step_fail "Chromium is missing and installing it needs root" "" "sudo apt-get install chromium"
      export DEBIAN_FRONTEND=noninteractive
      logged apt-get update && logged apt-get install -y chromium ||
        step_fail "apt-get install chromium failed" "$SETUP_LOG" "apt-get install -y chromium"
    fi
    step_ok "Chromium ready ($(find_chromium))"
    ;;
  path) find_chromium ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
