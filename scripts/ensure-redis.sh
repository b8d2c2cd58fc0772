#!/bin/sh
# Makes sure `redis-server` is on PATH for the local stack and the tests, which spawn their own
# instances on free 127.0.0.1 ports. Installs the Debian package only when the binary is missing,
# and keeps the package's system service from starting: nothing may listen on the default 6379.
# Idempotent; meant for root in CI (uses sudo when run as another user and sudo exists).
set -eu

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-redis: redis-server is missing and apt-get is not available; install Redis >= 6 by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ensure-redis: must run as root (or with sudo available) to install redis-server" >&2
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
$SUDO apt-get install -y --no-install-recommends redis-server

# Under systemd the unit may still be enabled for the next boot; the stack never uses it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

echo "redis-server installed: $(redis-server --version)"
