#!/bin/sh
# Makes sure the Debian tools tests/deploy runs are on PATH: `packer` (fmt -check and validate
# -syntax-only of packer/) and `systemd-analyze` (verify and security of systemd/). Installs a
# package only when its binary is missing, so a second run does nothing. Meant for root in CI
# (uses sudo when run as another user and sudo exists); .ci/run calls it before `npm test`.
# The tests install nothing themselves: without these tools they fail naming this script.
set -eu

missing=""
command -v packer >/dev/null 2>&1 || missing="$missing packer"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"

if [ -z "$missing" ]; then
  echo "ensure-tools: packer and systemd-analyze present ($(packer version 2>/dev/null | head -n 1); $(systemd-analyze --version | head -n 1))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: missing:$missing, and apt-get is not available; install them by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ensure-tools: must run as root (or with sudo available) to install:$missing" >&2
    exit 1
  fi
fi

# policy-rc.d exit status 101 tells invoke-rc.d "do not start services" during the install.
# Only create it when none exists, and only remove the one we created.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  CREATED_POLICY=1
fi
cleanup() {
  if [ "$CREATED_POLICY" -eq 1 ]; then $SUDO rm -f "$POLICY"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO apt-get install -y --no-install-recommends $missing

command -v packer >/dev/null 2>&1 || { echo "ensure-tools: packer still missing after install" >&2; exit 1; }
command -v systemd-analyze >/dev/null 2>&1 || { echo "ensure-tools: systemd-analyze still missing after install" >&2; exit 1; }
echo "ensure-tools: installed:$missing"
