output "inventory" {
  description = "The inventory contract (groups -> hosts -> address and facts); render it with `datalab inventory`."
  value       = module.inventory.inventory
}

output "network" {
  description = "The hosts' Docker network: name, range and gateway."
  value       = module.hosts.network
}
