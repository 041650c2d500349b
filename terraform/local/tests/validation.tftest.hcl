# Offline tests of the root stack: the docker provider is mocked, so these check the
# address plan, the inventory contract and that bad environment files fail validation
# naming the variable. The real provider is exercised by the lab tests.
# Run with the dev workspace (the stack guards workspace == environment):
#   TF_WORKSPACE=dev terraform test

mock_provider "docker" {}

variables {
  environment  = "dev"
  network_cidr = "172.30.10.0/24"
  host_groups = {
    control = { count = 1 }
    data    = { count = 3 }
    compute = { count = 2, memory_mb = 4096 }
  }
  ssh_key_dir  = "./tests/fixtures"
  apt_proxy    = "http://172.31.255.1:3142"
  artifact_url = "http://172.31.255.1:8800"
}

run "addresses_and_groups" {
  command = plan

  assert {
    condition     = local.hosts["control-1"].address == "172.30.10.11" && local.hosts["data-3"].address == "172.30.10.23" && local.hosts["compute-2"].address == "172.30.10.32"
    error_message = "each group has its own fixed address block"
  }
  assert {
    condition     = length(module.inventory.inventory.groups.kafka) == 3 && jsonencode(module.inventory.inventory.groups.spark_master) == jsonencode(["compute-1"])
    error_message = "service groups follow the default placement"
  }
  assert {
    condition     = module.inventory.inventory.vars.datalab_domain == "dev.datalab.internal"
    error_message = "the hosts' domain is <environment>.<domain>"
  }
}

run "rejects_zero_hosts" {
  command = plan
  variables {
    host_groups = { control = { count = 0 }, data = { count = 1 }, compute = { count = 1 } }
  }
  expect_failures = [var.host_groups]
}

run "rejects_missing_group" {
  command = plan
  variables {
    host_groups = { control = { count = 1 }, data = { count = 1 } }
  }
  expect_failures = [var.host_groups]
}

run "rejects_malformed_cidr" {
  command = plan
  variables {
    network_cidr = "172.30.300.0/24"
  }
  expect_failures = [var.network_cidr]
}

run "rejects_overlapping_cidr" {
  command = plan
  variables {
    network_cidr = "172.16.0.0/12"
  }
  expect_failures = [var.network_cidr]
}

run "rejects_unknown_object_store" {
  command = plan
  variables {
    object_store_backend = "ceph"
  }
  expect_failures = [var.object_store_backend]
}

run "rejects_unknown_vault_flavour" {
  command = plan
  variables {
    vault_flavour = "consul"
  }
  expect_failures = [var.vault_flavour]
}

run "rejects_bad_certificate_ttl" {
  command = plan
  variables {
    certificate_ttl = "30d"
  }
  expect_failures = [var.certificate_ttl]
}

run "rejects_missing_ssh_key" {
  command = plan
  variables {
    ssh_key_dir = "./tests/no-such-dir"
  }
  expect_failures = [var.ssh_key_dir]
}
