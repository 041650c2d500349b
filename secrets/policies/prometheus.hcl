# prometheus: Prometheus: TLS and scrape credentials.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/prometheus/*" { capabilities = ["read"] }
path "datalab/metadata/prometheus/*" { capabilities = ["read", "list"] }
path "pki_int/issue/prometheus" { capabilities = ["update"] }
# Vault's own metrics (/v1/sys/metrics), scraped with a token of this AppRole.
path "sys/metrics" { capabilities = ["read"] }
