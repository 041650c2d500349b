# The inventory contract, shared by every host driver: groups -> hosts -> address and
# facts. Pure computation; no resources. Ansible consumes it through
# `datalab inventory`, so nothing downstream knows which driver made the hosts.

locals {
  host_groups = distinct([for host in values(var.hosts) : host.group])

  # Hosts of each host group, in name order (control-1, control-2, ...).
  members = {
    for group in local.host_groups : group => sort([
      for name, host in var.hosts : name if host.group == group
    ])
  }

  services = {
    for service, where in var.placement : service => (
      where.max_hosts == null
      ? lookup(local.members, where.group, [])
      : slice(lookup(local.members, where.group, []), 0, min(where.max_hosts, length(lookup(local.members, where.group, []))))
    )
  }
}
