"""PostgreSQL in the lab, for real: TLS only (verify-full against the platform root),
scram-sha-256 with passwords from Vault, each role only its own database, hardened
unit, and the runbook's backup/restore round trip."""

from __future__ import annotations

import shlex

import pytest
from datalab import secrets, vault

from tests.lab.conftest import ENV, datalab, host_of

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

CA = "/usr/local/share/ca-certificates/datalab-root-ca.crt"


@pytest.fixture(scope="module")
def db(converged):
    data, inventory, _ = converged
    e = vault.environment(ENV)
    return host_of(inventory, "control-1"), data["hosts"]["control-1"]["address"], e


def psql(db, sql: str, database="mlflow", user="mlflow", password=None, sslmode="verify-full"):
    host, address, e = db
    password = password or secrets.get(e, f"postgres/{user}")[0]["password"]
    dsn = f"host={address} dbname={database} user={user} sslmode={sslmode} sslrootcert={CA}"
    return host.run(
        f"PGPASSWORD={shlex.quote(password)} psql {shlex.quote(dsn)} -tAc {shlex.quote(sql)}"
    )


def test_tls_with_the_vault_password(db):
    out = psql(db, "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()")
    assert out.rc == 0, out.stderr
    assert out.stdout.strip() in ("t|TLSv1.3", "t|TLSv1.2")


def test_plaintext_wrong_password_and_other_database_are_refused(db):
    plain = psql(db, "select 1", sslmode="disable")
    assert plain.rc != 0 and "no encryption" in plain.stderr
    wrong = psql(db, "select 1", password="x" * 32)  # a wrong password
    assert wrong.rc != 0 and "password authentication failed" in wrong.stderr
    mlflow_pw = secrets.get(db[2], "postgres/mlflow")[0]["password"]
    other = psql(db, "select 1", database="prefect", user="mlflow", password=mlflow_pw)
    assert other.rc != 0 and "no pg_hba.conf entry" in other.stderr


def test_listens_on_the_host_network_only(db):
    host, address, _ = db
    listening = {s.split(":")[0] for s in host.run("ss -ltnH 'sport = :5432'").stdout.split()[3::5]}
    assert listening == {address}


def test_runs_as_postgres_sandboxed_with_private_data(db):
    host, _, _ = db
    assert {p.user for p in host.process.filter(comm="postgres")} == {"postgres"}
    data = host.file("/var/lib/datalab/postgres/15/main")
    assert (data.user, data.mode) == ("postgres", 0o700)
    key = host.file("/etc/postgresql/15/main/tls/server.key")
    assert (key.user, key.mode) == ("postgres", 0o600)
    show = host.run(
        "systemctl show postgresql@15-main -p User -p NoNewPrivileges -p ProtectSystem"
    ).stdout
    assert "User=postgres" in show and "NoNewPrivileges=yes" in show
    assert "ProtectSystem=strict" in show


def test_backup_and_restore_round_trip(db):
    """Runbook 'Back up and restore the databases'."""
    assert psql(db, "create table probe (v text); insert into probe values ('kept')").rc == 0

    assert "bytes in control-1" in datalab("postgres", "backup", "mlflow")
    assert psql(db, "drop table probe").rc == 0
    assert "restored" in datalab("postgres", "restore", "mlflow")
    assert psql(db, "select v from probe").stdout.strip() == "kept"
    assert psql(
        db, "select tableowner from pg_tables where tablename = 'probe'"
    ).stdout.strip() == ("mlflow")
