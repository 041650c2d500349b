# etcd: the discovery store's servers: their certificate (CN etcd.service.<domain>, the
# only name their peers accept) and the root password they set.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/etcd/*" { capabilities = ["read"] }
path "datalab/metadata/etcd/*" { capabilities = ["read", "list"] }
path "pki_int/issue/etcd" { capabilities = ["update"] }
