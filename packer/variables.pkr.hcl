variable "region" {
  type        = string
  description = "Region the AMI is built in (copy it elsewhere with ami_regions if needed)."
  default     = "us-east-1"
}

variable "architecture" {
  type        = string
  description = "x86_64 or arm64 (Graviton). Build the release tarball on the same architecture."
  default     = "x86_64"
}

variable "instance_type" {
  type        = string
  description = "Build instance type; must match var.architecture."
  default     = "t3.small"
}

variable "release_tarball" {
  type        = string
  description = "Path of the release built by `npm run build` (dist/release/warden-<version>.tar.gz)."
}

variable "release_sha256" {
  type        = string
  description = "SHA-256 of the release tarball (the .sha256 file next to it); checked on the build instance."
}

variable "release_version" {
  type        = string
  description = "Release version, as in RELEASE.json; goes into the AMI name and tags."
}

variable "kms_key_id" {
  type        = string
  description = "ARN of the customer-managed KMS key that encrypts the AMI's snapshots (the stack's key)."
}

variable "subnet_id" {
  type        = string
  description = "Private subnet of the build instance: no public IP, egress to AWS endpoints and dnf repos."
}

variable "security_group_id" {
  type        = string
  description = "Security group of the build instance: egress only, no ingress (Session Manager needs none)."
}

variable "build_instance_profile" {
  type        = string
  description = "Instance profile of the build instance: AmazonSSMManagedInstanceCore and nothing else."
}
