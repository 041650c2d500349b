# Lab environment for iterating on the mlflow and prefect roles: the dev shape on its own
# network (the lab tests themselves use the dev file with DATALAB_TEST_ENV overrides).
environment  = "labml"
network_cidr = "172.30.94.0/24"

host_groups = {
  control = { count = 1, memory_mb = 4096 }
  data    = { count = 1, memory_mb = 2048 }
  compute = { count = 1, memory_mb = 3072 }
}

object_store_backend = "seaweedfs"
vault_flavour        = "openbao"
certificate_ttl      = "720h"

ssh_key_dir  = "~/.local/state/datalab/labml"
apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
