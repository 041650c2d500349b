# prometheus: Prometheus: TLS and scrape credentials.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/prometheus/*" { capabilities = ["read"] }
path "datalab/metadata/prometheus/*" { capabilities = ["read", "list"] }
path "pki_int/issue/prometheus" { capabilities = ["update"] }
