# spark: Spark master and workers: TLS keystores and the authentication secret.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/spark/*" { capabilities = ["read"] }
path "datalab/metadata/spark/*" { capabilities = ["read", "list"] }
path "pki_int/issue/spark" { capabilities = ["update"] }
