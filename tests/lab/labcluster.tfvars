# Lab test environment for the multi-node data plane (the data_cluster fixture in
# tests/lab/conftest.py: object store and Kafka clusters):
# the staging shape of the data group (three hosts), the other groups at their minimum.
environment  = "labstore"
network_cidr = "172.30.95.0/24"

host_groups = {
  control = { count = 1, memory_mb = 2048 }
  data    = { count = 3, memory_mb = 1024 }
  compute = { count = 1, memory_mb = 1024 }
}

ssh_key_dir  = "~/.local/state/datalab/labstore"
apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
