# dev: the embedded default. Three local hosts that fit a 2-core, 24 GiB machine.
# Apply with `datalab hosts up --env dev` (or see README for the raw terraform command).

environment  = "dev"
network_cidr = "172.30.10.0/24"

host_groups = {
  control = { count = 1, memory_mb = 4096 } # Vault, etcd, Postgres, MLflow, Prefect, Prometheus, Perses
  data    = { count = 1, memory_mb = 4096 } # object store, Kafka
  compute = { count = 1, memory_mb = 6144 } # Spark master + worker, Prefect worker
}

object_store_backend = "seaweedfs"
vault_flavour        = "openbao"
certificate_ttl      = "720h"

# Deployed jobs that run on their own (cron, UTC); the medallion runs when asked
# (`datalab run medallion`).
job_schedules = {
  "lake-maintenance" = "0 3 * * *"
}

# Outside git: the environment's SSH key pair and pinned host keys.
ssh_key_dir = "~/.local/state/datalab/dev"

# The lab services address that `datalab lab prepare` serves on (package proxy and
# artifact store); hosts have no other way out.
apt_proxy    = "http://172.31.255.1:3142"
artifact_url = "http://172.31.255.1:8800"
