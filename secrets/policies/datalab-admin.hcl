# datalab-admin: the token Ansible converges with (created at init; root is revoked).
# It configures engines, auth, policies and PKI, and reads/writes every service's
# secrets. It cannot read unseal keys (Vault never stores them) nor act as root.
path "sys/mounts" { capabilities = ["read", "list"] }
path "sys/mounts/*" { capabilities = ["create", "read", "update", "sudo"] }
path "sys/auth" { capabilities = ["read", "list"] }
path "sys/auth/*" { capabilities = ["create", "read", "update", "sudo"] }
path "sys/audit" { capabilities = ["read", "list", "sudo"] }
path "sys/audit/*" { capabilities = ["create", "read", "update", "sudo"] }
path "sys/policies/acl" { capabilities = ["list"] }
path "sys/policies/acl/*" { capabilities = ["create", "read", "update"] }
path "sys/health" { capabilities = ["read"] }
path "sys/storage/raft/*" { capabilities = ["read", "list"] }
path "sys/storage/raft/remove-peer" { capabilities = ["update"] }
path "auth/approle/role" { capabilities = ["list"] }
path "auth/approle/role/*" { capabilities = ["create", "read", "update"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
# Root token regeneration: starting an attempt needs this token, completing it needs a
# quorum of key shares (datalab vault generate-root).
path "sys/generate-root-token/*" { capabilities = ["create", "read", "update", "delete"] }
path "datalab/*" { capabilities = ["create", "read", "update", "list"] }
path "pki/*" { capabilities = ["create", "read", "update", "list"] }
path "pki_int/*" { capabilities = ["create", "read", "update", "list"] }
