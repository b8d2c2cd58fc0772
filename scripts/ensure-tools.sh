#!/bin/sh
# Makes sure the Debian tools tests/deploy runs are on PATH: `packer` (fmt -check and validate
# -syntax-only of packer/) and `systemd-analyze` (verify and security of systemd/). Installs a
# package only when its binary is missing, so a second run does nothing; `npm test` calls it
# first (pretest). The tests install nothing themselves: without these tools they fail naming
# this script.
set -eu

missing=""
command -v packer >/dev/null 2>&1 || missing="$missing packer"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"

if [ -z "$missing" ]; then
  echo "ensure-tools: packer and systemd-analyze present ($(packer version 2>/dev/null | head -n 1); $(systemd-analyze --version | head -n 1))"
  exit 0
fi

# shellcheck disable=SC2086 # word splitting of the package list is intended
sh "$(dirname "$0")/apt-install-missing.sh" ensure-tools $missing

command -v packer >/dev/null 2>&1 || { echo "ensure-tools: packer still missing after install" >&2; exit 1; }
command -v systemd-analyze >/dev/null 2>&1 || { echo "ensure-tools: systemd-analyze still missing after install" >&2; exit 1; }
echo "ensure-tools: installed:$missing"
