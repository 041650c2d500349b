# node_exporter: node_exporter on every host: TLS and basic-auth credentials.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/node_exporter/*" { capabilities = ["read"] }
path "datalab/metadata/node_exporter/*" { capabilities = ["read", "list"] }
path "pki_int/issue/node_exporter" { capabilities = ["update"] }
