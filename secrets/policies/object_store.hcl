# object_store: the S3 object store: its TLS certificate and access keys.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/object_store/*" { capabilities = ["read"] }
path "datalab/metadata/object_store/*" { capabilities = ["read", "list"] }
path "pki_int/issue/object_store" { capabilities = ["update"] }
