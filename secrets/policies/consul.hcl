# consul: Consul servers and agents: TLS, gossip key and ACL tokens.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/consul/*" { capabilities = ["read"] }
path "datalab/metadata/consul/*" { capabilities = ["read", "list"] }
path "pki_int/issue/consul" { capabilities = ["update"] }
