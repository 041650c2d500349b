# kafka: the Kafka brokers: TLS keystores and SCRAM credentials.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/kafka/*" { capabilities = ["read"] }
path "datalab/metadata/kafka/*" { capabilities = ["read", "list"] }
path "pki_int/issue/kafka" { capabilities = ["update"] }
