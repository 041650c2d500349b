variable "environment" {
  description = "Environment name, carried into the inventory as datalab_environment."
  type        = string
}

variable "driver" {
  description = "Host driver that made the hosts (docker, aws); informational only: Ansible never branches on it."
  type        = string
}

variable "hosts" {
  description = "Hosts keyed by short hostname, as made by any driver: address, FQDN, host group."
  type = map(object({
    address = string
    fqdn    = string
    group   = string
  }))
}

variable "placement" {
  description = "Service group -> host group it runs on, and how many of that group's hosts it takes (null = all)."
  type = map(object({
    group     = string
    max_hosts = optional(number)
  }))
}

variable "vars" {
  description = "Variables for every host (the `all` group): component choices, sources, connection settings."
  type        = any
  default     = {}
}
