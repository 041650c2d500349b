# Lab test environment for the clusters (the data_cluster fixture in tests/lab/conftest.py):
# the staging shape of the control group (the Vault raft cluster and the etcd members) and
# of the data group (the object store and Kafka clusters), three hosts each, on its own
# network. The compute host exists because every environment has one; it stays unconverged.
environment  = "labcluster"
network_cidr = "172.30.95.0/24"

host_groups = {
  control = { count = 3, memory_mb = 2048 }
  data    = { count = 3, memory_mb = 1024 }
  compute = { count = 1, memory_mb = 1024 }
}

ssh_key_dir  = "~/.local/state/datalab/labcluster"
apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
