# mlflow: the MLflow tracking server: TLS and its admin credentials.
# Least privilege: read its own secrets, issue certificates for its own names only.
path "datalab/data/mlflow/*" { capabilities = ["read"] }
path "datalab/metadata/mlflow/*" { capabilities = ["read", "list"] }
path "pki_int/issue/mlflow" { capabilities = ["update"] }
