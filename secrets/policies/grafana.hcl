# grafana: Grafana: TLS and the admin password.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/grafana/*" { capabilities = ["read"] }
path "datalab/metadata/grafana/*" { capabilities = ["read", "list"] }
path "pki_int/issue/grafana" { capabilities = ["update"] }
