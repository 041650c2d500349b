# Lab test environment for the 3-node Vault cluster (tests/lab/test_vault_cluster.py):
# the dev shape with three control hosts, on its own network.
environment  = "labha"
network_cidr = "172.30.91.0/24"

host_groups = {
  control = { count = 3, memory_mb = 2048 }
  data    = { count = 1, memory_mb = 2048 }
  compute = { count = 1, memory_mb = 2048 }
}

ssh_key_dir  = "~/.local/state/datalab/labha"
apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
