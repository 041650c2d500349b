output "inventory" {
  description = "The inventory contract: environment, driver, hosts (address + facts), groups (host groups and service groups) and vars for all hosts."
  value = {
    environment = var.environment
    driver      = var.driver
    hosts = {
      for name, host in var.hosts : name => {
        address = host.address
        fqdn    = host.fqdn
        group   = host.group
      }
    }
    groups = merge(local.members, local.services)
    vars   = var.vars
  }
}
