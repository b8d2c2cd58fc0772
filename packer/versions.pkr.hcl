# Plugin requirements for current Packer (>= 1.10, where plugins are no longer bundled): run
# `packer init packer/` once, then `packer build packer/`.
#
# Kept alone in this file on purpose: Debian's packer 1.6.6, which tests/deploy runs offline for
# `fmt -check` and `validate -syntax-only`, predates `required_plugins` (added in 1.7) and
# rejects the block; the test validates a copy of this directory without this file. The
# amazon-ebs builder is bundled in 1.6.6, so nothing else differs.
packer {
  required_version = ">= 1.10.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}
