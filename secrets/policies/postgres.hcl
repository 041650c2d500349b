# postgres: the database server: its TLS certificate and role passwords.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/postgres/*" { capabilities = ["read"] }
path "datalab/metadata/postgres/*" { capabilities = ["read", "list"] }
path "pki_int/issue/postgres" { capabilities = ["update"] }
