# Offline test of the inventory contract: pure computation, no provider.

variables {
  environment = "staging"
  driver      = "docker"
  hosts = {
    "control-1" = { address = "10.0.0.11", fqdn = "control-1.staging.example", group = "control" }
    "control-2" = { address = "10.0.0.12", fqdn = "control-2.staging.example", group = "control" }
    "data-1"    = { address = "10.0.0.21", fqdn = "data-1.staging.example", group = "data" }
  }
  placement = {
    vault    = { group = "control" }
    postgres = { group = "control", max_hosts = 1 }
    kafka    = { group = "data", max_hosts = 3 }
    spark    = { group = "compute" }
  }
  vars = { datalab_environment = "staging" }
}

run "groups_follow_placement" {
  command = apply

  assert {
    condition     = jsonencode(output.inventory.groups.control) == jsonencode(["control-1", "control-2"])
    error_message = "host group control should list its hosts in name order"
  }
  assert {
    condition     = jsonencode(output.inventory.groups.vault) == jsonencode(["control-1", "control-2"])
    error_message = "a service without max_hosts runs on every host of its group"
  }
  assert {
    condition     = jsonencode(output.inventory.groups.postgres) == jsonencode(["control-1"])
    error_message = "max_hosts = 1 takes the first host of the group"
  }
  assert {
    condition     = jsonencode(output.inventory.groups.kafka) == jsonencode(["data-1"])
    error_message = "max_hosts larger than the group takes the whole group"
  }
  assert {
    condition     = jsonencode(output.inventory.groups.spark) == jsonencode([])
    error_message = "a service placed on an absent group gets no hosts"
  }
  assert {
    condition     = output.inventory.hosts["data-1"].address == "10.0.0.21" && output.inventory.driver == "docker"
    error_message = "hosts keep their address and the driver is carried through"
  }
}
