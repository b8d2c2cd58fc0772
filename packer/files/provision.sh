#!/bin/sh
# Runs on the Packer build instance as root (see warden.pkr.hcl). Installs Node.js 22, the
# CloudWatch and SSM agents, the release at /opt/warden and its units; enables the services.
# Fails on the first error (sh -eu).
set -eu
FILES="${WARDEN_FILES:-/tmp/warden-files}"
TARBALL=/tmp/warden-release.tar.gz

# 1. Packages: patches of this AL2023 release, then what warden runs on.
dnf -y upgrade
dnf -y install nodejs22 amazon-cloudwatch-agent amazon-ssm-agent logrotate tar gzip

# 2. The release, verified before it is unpacked.
echo "${WARDEN_RELEASE_SHA256:?}  $TARBALL" | sha256sum -c -
rm -rf /opt/warden
install -d -m 0755 -o root -g root /opt/warden
tar -xzf "$TARBALL" -C /opt/warden --strip-components=1 --no-same-owner --no-same-permissions
chown -R root:root /opt/warden
chmod -R u=rwX,go=rX /opt/warden
chmod 0755 /opt/warden/bin/warden.js /opt/warden/systemd/fetch-secrets.sh
rm -f "$TARBALL"

# 3. The service user and its directories (the same files systemd reads at every boot).
install -m 0644 /opt/warden/systemd/warden.sysusers.conf /usr/lib/sysusers.d/warden.conf
install -m 0644 /opt/warden/systemd/warden.tmpfiles.conf /usr/lib/tmpfiles.d/warden.conf
systemd-sysusers /usr/lib/sysusers.d/warden.conf
systemd-tmpfiles --create /usr/lib/tmpfiles.d/warden.conf
# /etc/warden/warden.json and boot.env are written by the launch template's user data.
install -d -m 0750 -o root -g warden /etc/warden

# 4. Units and the operator entry point SSM documents call.
install -m 0644 /opt/warden/systemd/warden-supervisor.service /etc/systemd/system/warden-supervisor.service
install -m 0644 /opt/warden/systemd/warden-secrets.service /etc/systemd/system/warden-secrets.service
install -m 0755 "$FILES/warden-cli.sh" /usr/local/bin/warden
systemctl daemon-reload
# Not enabled here: the launch template's user data writes the config and boot.env first, then
# enables and starts both units (a unit started before its config exists would only flap).

# 5. CloudWatch agent: ships the EMF and application logs (CloudWatch Logs extracts the EMF
# metrics). The stack's user data replaces this default with its own config from SSM.
install -m 0644 "$FILES/amazon-cloudwatch-agent.json" /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json
usermod -a -G warden cwagent
install -m 0644 "$FILES/warden.logrotate" /etc/logrotate.d/warden
systemctl enable amazon-cloudwatch-agent.service

# 6. Operated through SSM Run Command only.
systemctl enable amazon-ssm-agent.service
systemctl disable sshd.service || true

# 7. Nothing of this build in the image.
dnf clean all
rm -rf "$FILES" /var/log/warden/*.log.* /root/.npm
: > /var/log/warden/supervisor.log
