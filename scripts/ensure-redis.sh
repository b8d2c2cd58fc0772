#!/bin/sh
# Makes sure `redis-server` is on PATH for the local stack and the tests, which spawn their own
# instances on free 127.0.0.1 ports. Installs the Debian package only when the binary is missing,
# without starting its system service: nothing may listen on the default 6379. Idempotent.
set -eu

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version)"
  exit 0
fi

sh "$(dirname "$0")/apt-install-missing.sh" ensure-redis redis-server

# Under systemd the unit may still be enabled for the next boot; the stack never uses it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now redis-server >/dev/null 2>&1 || sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

echo "redis-server installed: $(redis-server --version)"
