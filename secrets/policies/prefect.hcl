# prefect: the Prefect server and workers: TLS and API credentials.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/prefect/*" { capabilities = ["read"] }
path "datalab/metadata/prefect/*" { capabilities = ["read", "list"] }
path "pki_int/issue/prefect" { capabilities = ["update"] }
