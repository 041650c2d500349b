# vault: the secrets server's own listener certificate.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/vault/*" { capabilities = ["read"] }
path "datalab/metadata/vault/*" { capabilities = ["read", "list"] }
path "pki_int/issue/vault" { capabilities = ["update"] }
