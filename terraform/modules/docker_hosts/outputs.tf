output "hosts" {
  description = "Created hosts keyed by short hostname: address, FQDN, group and container ID."
  value = {
    for name, host in var.hosts : name => {
      address   = host.address
      fqdn      = "${name}.${var.domain}"
      group     = host.group
      memory_mb = host.memory_mb
      id        = docker_container.host[name].id
    }
  }
}

output "network" {
  description = "The Docker network: name, range and gateway (the Docker host's address on it)."
  value = {
    name    = docker_network.this.name
    cidr    = var.network_cidr
    gateway = cidrhost(var.network_cidr, 1)
  }
}
