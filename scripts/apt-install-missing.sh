#!/bin/sh
# Installs Debian packages without starting their services: `apt-install-missing.sh NAME PKG...`
# (NAME prefixes the messages). Shared by ensure-redis.sh and ensure-tools.sh, which decide what
# is missing. Meant for root in CI; uses sudo when run as another user and sudo exists.
set -eu
name="$1"
shift

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$name: missing: $*, and apt-get is not available; install them by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "$name: must run as root (or with sudo available) to install: $*" >&2
    exit 1
  fi
fi

# policy-rc.d exit status 101 tells invoke-rc.d "do not start services" during the install:
# nothing may listen on a package's default port. Only create it when none exists, and only
# remove the one we created.
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
$SUDO apt-get install -y --no-install-recommends "$@"
