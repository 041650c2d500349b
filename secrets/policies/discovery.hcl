# discovery: CoreDNS and the registrar on every host: one certificate whose CN (the
# host's FQDN) is the host's etcd user.
# Least privilege: issue certificates for its own names only; it has no secrets.
path "pki_int/issue/discovery" { capabilities = ["update"] }
