# Lab test environment for the HashiCorp Vault flavour (tests/lab/test_vault_flavour.py):
# one control host with vault_flavour = "vault"; the other groups at their minimum.
environment  = "labvault"
network_cidr = "172.30.92.0/24"

host_groups = {
  control = { count = 1, memory_mb = 2048 }
  data    = { count = 1, memory_mb = 1024 }
  compute = { count = 1, memory_mb = 1024 }
}

vault_flavour = "vault"

ssh_key_dir  = "~/.local/state/datalab/labvault"
apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
