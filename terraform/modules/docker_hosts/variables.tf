variable "environment" {
  description = "Environment name; prefixes every Docker object so environments can coexist."
  type        = string
}

variable "network_cidr" {
  description = "IPv4 range of the private Docker network the hosts live on."
  type        = string
}

variable "hosts" {
  description = "Hosts to create, keyed by short hostname: fixed IPv4 address, group and memory limit."
  type = map(object({
    address   = string
    group     = string
    memory_mb = number
  }))
}

variable "domain" {
  description = "DNS domain of the hosts; FQDN = <name>.<domain>."
  type        = string
}

variable "image" {
  description = "Local Docker image of the host OS (Debian bookworm with systemd and sshd), built by `datalab lab prepare`."
  type        = string
}

variable "ssh_user" {
  description = "Admin user that exists in the image and that Ansible connects as."
  type        = string
}

variable "ssh_authorized_key" {
  description = "Public key allowed to log in as ssh_user."
  type        = string
}

variable "data_mount" {
  description = "Path inside each host where its persistent data volume is mounted."
  type        = string
  default     = "/var/lib/datalab"
}
