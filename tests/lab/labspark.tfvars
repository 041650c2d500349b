# Lab environment for iterating on the spark role (tests/lab/test_spark.py runs with
# DATALAB_TEST_ENV=labspark instead): the dev shape on its own network.
environment  = "labspark"
network_cidr = "172.30.93.0/24"

host_groups = {
  control = { count = 1, memory_mb = 2048 }
  data    = { count = 1, memory_mb = 2048 }
  compute = { count = 1, memory_mb = 4096 }
}

ssh_key_dir  = "~/.local/state/datalab/labspark"
apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
