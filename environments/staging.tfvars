# staging: the clustered topology on the same local stack, for cluster tests
# (3 Vault + 3 etcd members, 3 Kafka brokers, 2 Spark workers).

environment  = "staging"
network_cidr = "172.30.20.0/24"

host_groups = {
  control = { count = 3, memory_mb = 3072 }
  data    = { count = 3, memory_mb = 3072 }
  compute = { count = 2, memory_mb = 4096 }
}

object_store_backend = "seaweedfs"
vault_flavour        = "openbao"
certificate_ttl      = "168h"

ssh_key_dir = "~/.local/state/datalab/staging"

apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
