#!/bin/sh
# /usr/local/bin/warden on the AMI: the release CLI on the Node.js it was built for, whatever
# `node` the alternatives system points at. SSM documents call this.
exec /usr/bin/node-22 /opt/warden/bin/warden.js "$@"
