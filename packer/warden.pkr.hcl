# The warden AMI: Amazon Linux 2023, Node.js 22, the CloudWatch agent (EMF), the SSM agent, the
# release tarball and its systemd units. Encrypted with the deployment's KMS key, IMDSv2 only,
# built without SSH keys or open ports: Packer reaches the build instance through Session
# Manager (an SSM tunnel, no ingress rule, no public IP), and the AMI ships with sshd disabled.
#
#   npm run build
#   packer init packer/ && packer build -var-file=prod.pkrvars.hcl packer/

locals {
  build_time = formatdate("YYYYMMDDhhmmss", timestamp())
  ami_name   = "warden-${var.release_version}-${var.architecture}-${local.build_time}"
  tags = {
    Service      = "warden"
    Release      = var.release_version
    Architecture = var.architecture
    BuiltBy      = "packer"
  }
}

source "amazon-ebs" "warden" {
  region          = var.region
  instance_type   = var.instance_type
  ami_name        = local.ami_name
  ami_description = "warden ${var.release_version} on Amazon Linux 2023 (${var.architecture})"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-kernel-*-${var.architecture}"
      architecture        = var.architecture
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  encrypt_boot = true
  kms_key_id   = var.kms_key_id

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 16
    volume_type           = "gp3"
    encrypted             = true
    kms_key_id            = var.kms_key_id
    delete_on_termination = true
  }

  # IMDSv2 only on the build instance, and the AMI marked v2.0 so instances launched from it
  # default to IMDSv2 whatever the launch template says.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  imds_support = "v2.0"

  communicator                = "ssh"
  ssh_interface               = "session_manager"
  ssh_username                = "ec2-user"
  ssh_clear_authorized_keys   = true
  associate_public_ip_address = false
  subnet_id                   = var.subnet_id
  security_group_id           = var.security_group_id
  iam_instance_profile        = var.build_instance_profile

  run_tags      = local.tags
  tags          = local.tags
  snapshot_tags = local.tags
}

build {
  sources = ["source.amazon-ebs.warden"]

  provisioner "file" {
    source      = var.release_tarball
    destination = "/tmp/warden-release.tar.gz"
  }

  provisioner "file" {
    source      = "${path.root}/files/"
    destination = "/tmp/warden-files"
  }

  provisioner "shell" {
    script           = "${path.root}/files/provision.sh"
    environment_vars = ["WARDEN_RELEASE_SHA256=${var.release_sha256}", "WARDEN_FILES=/tmp/warden-files"]
    execute_command  = "sudo -E sh -eu '{{ .Path }}'"
  }

  # Last: the installed release must load under the service user, with the Node.js it will run on.
  provisioner "shell" {
    inline = [
      "sudo -u warden /usr/bin/node-22 /opt/warden/bin/warden.js --self-check --config /opt/warden/config/warden.example.json",
    ]
  }
}
