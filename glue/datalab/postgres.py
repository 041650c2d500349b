"""PostgreSQL backups: a custom-format `pg_dump` per database, written on the database
host (data volume, 0700 directory), restored with `pg_restore --clean`. Runs through
Ansible on the host as the postgres user, so no database password leaves Vault."""

from __future__ import annotations

import shlex

from datalab import DatalabError, converge, hosts

BACKUP_DIR = "/var/lib/datalab/backups/postgres"
DATABASES = ("mlflow", "prefect")


def _target(env: str, database: str) -> tuple:
    if database not in DATABASES:
        raise DatalabError(f"unknown database {database!r}; known: {', '.join(DATABASES)}")
    contract = hosts.contract(env)
    members = contract["groups"].get("postgres", [])
    if not members:
        raise DatalabError(f"environment {env} has no postgres host")
    return hosts.key_dir(env) / "inventory.yml", members[0], f"{BACKUP_DIR}/{database}.dump"


def backup(env: str, database: str) -> str:
    inventory, host, dump = _target(env, database)
    converge.run_on(
        inventory,
        host,
        f"runuser -u postgres -- pg_dump --format=custom --file={shlex.quote(dump)}.partial "
        f"{shlex.quote(database)} && mv {shlex.quote(dump)}.partial {shlex.quote(dump)}",
    )
    size = converge.run_on(inventory, host, f"stat -c %s {shlex.quote(dump)}")
    return f"{database}: {size} bytes in {host}:{dump}"


def restore(env: str, database: str) -> str:
    inventory, host, dump = _target(env, database)
    converge.run_on(
        inventory,
        host,
        f"test -s {shlex.quote(dump)} && runuser -u postgres -- pg_restore --clean --if-exists "
        f"--single-transaction --dbname={shlex.quote(database)} {shlex.quote(dump)}",
    )
    return f"{database}: restored from {host}:{dump}"
