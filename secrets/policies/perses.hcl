# perses: Perses: TLS only. Its secrets (admin password, encryption key, Prometheus
# password) are written to its host by Ansible; at run time it reads nothing from Vault.
# Least privilege: issue certificates for its own names only.
path "pki_int/issue/perses" { capabilities = ["update"] }
