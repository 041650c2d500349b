"""`datalab smoke`: is every service of an environment up and doing its job?

Each check talks to the service the way a user does: over TLS, verified against the
platform CA, with credentials from Vault. A component whose inventory group is empty is
reported as not deployed, not as a failure. Kafka is checked on a broker host with its
own tools (no Kafka client library here): a record produced over TLS + SCRAM comes back.
"""

from __future__ import annotations

import secrets as random_tokens
import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import requests

from datalab import DatalabError, converge, hosts
from datalab import secrets as secrets_mod
from datalab import vault as vault_mod


@dataclass
class Check:
    component: str
    what: str
    ok: bool | None  # None: not deployed in this environment
    detail: str
    seconds: float = 0.0


@dataclass
class Target:
    env: str
    contract: dict
    ca: Path

    @property
    def inventory(self) -> Path:
        return hosts.key_dir(self.env) / "inventory.yml"

    def first(self, group: str) -> tuple[str, str] | None:
        """(host, address) of the group's first host, or None if the group is empty."""
        members = self.contract["groups"].get(group) or []
        if not members:
            return None
        return members[0], self.contract["hosts"][members[0]]["address"]

    def vault(self) -> vault_mod.Env:
        return vault_mod.environment(self.env)

    def secret(self, path: str) -> dict:
        return secrets_mod.get(self.vault(), path)[0]

    def get(self, url: str, auth: tuple[str, str] | None = None) -> requests.Response:
        return requests.get(url, auth=auth, verify=str(self.ca), timeout=20)


class Failed(Exception):
    """A check's finding (not a crash): shown in the table."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


# --- The checks: each returns a detail string, raises Failed (or any error) otherwise ---


def _vault(t: Target, host: str, address: str) -> str:
    rows = vault_mod.status(t.vault())
    bad = [f"{r['node']}: {r['role']}" for r in rows if r["role"] not in ("active", "standby")]
    _expect(not bad, "; ".join(bad))
    _expect(any(r["role"] == "active" for r in rows), "no active node")
    return ", ".join(f"{r['node']} {r['role']}" for r in rows)


def _object_store(t: Target, host: str, address: str) -> str:
    key = t.secret("object_store/admin")
    s3 = boto3.client(
        "s3",
        endpoint_url=f"https://{address}:8333",
        aws_access_key_id=key["access_key"],
        aws_secret_access_key=key["secret_key"],
        region_name="us-east-1",
        verify=str(t.ca),
        config=botocore.config.Config(retries={"max_attempts": 2}, connect_timeout=10),
    )
    name, body = f"smoke/{random_tokens.token_hex(8)}", random_tokens.token_bytes(1024)
    s3.put_object(Bucket="landing", Key=name, Body=body)
    try:
        _expect(s3.get_object(Bucket="landing", Key=name)["Body"].read() == body, "read differs")
    finally:
        s3.delete_object(Bucket="landing", Key=name)
    return "put, get and delete of 1 KiB in landing/"


def _postgres(t: Target, host: str, address: str) -> str:
    """The server must switch to TLS (SSLRequest) with a certificate for its FQDN that
    the platform CA verifies."""
    context = ssl.create_default_context(cafile=str(t.ca))
    fqdn = t.contract["hosts"][host]["fqdn"]
    with socket.create_connection((address, 5432), timeout=10) as raw:
        raw.sendall(struct.pack("!ii", 8, 80877103))
        _expect(raw.recv(1) == b"S", "the server refused TLS")
        with context.wrap_socket(raw, server_hostname=fqdn) as tls:
            version = tls.version()
    return f"TLS ({version}), certificate for {fqdn} from the platform CA"


def _kafka(t: Target, host: str, address: str) -> str:
    """One shell on the broker host (each tool is a JVM start): make the topic once, produce
    a fresh token as `admin` over TLS + SCRAM, read the topic back until 10 s of quiet."""
    token = f"smoke-{random_tokens.token_hex(8)}"
    config = "/etc/kafka/client-admin.properties"
    client = f"--bootstrap-server {address}:9093"
    topic = "datalab.smoke"
    out = converge.run_on(
        t.inventory,
        host,
        f"set -e; datalab-kafka topics {client} --command-config {config} --create "
        f"--if-not-exists --topic {topic} --partitions 1 --config retention.ms=3600000 "
        f">/dev/null; echo {token} | datalab-kafka console-producer {client} "
        f"--producer.config {config} --topic {topic}; "
        f"datalab-kafka console-consumer {client} --consumer.config {config} --topic {topic} "
        f"--from-beginning --timeout-ms 10000 2>/dev/null | grep -c {token} || true",
    )
    _expect(out.strip().endswith("1"), f"the record did not come back ({out[-200:]})")
    return f"produce + consume over TLS + SCRAM on {address}:9093"


def _spark(t: Target, host: str, address: str) -> str:
    state = t.get(f"https://{address}:8480/json/").json()
    _expect(state.get("status") == "ALIVE", f"master status {state.get('status')}")
    workers = state.get("aliveworkers", 0)
    _expect(workers >= 1, "no alive worker")
    return f"master ALIVE, {workers} worker(s), {state.get('cores', '?')} cores"


def _mlflow(t: Target, host: str, address: str) -> str:
    password = t.secret("mlflow/server")["admin_password"]
    base = f"https://{address}:5000"
    _expect(t.get(f"{base}/health").status_code == 200, "/health is not 200")
    refused = t.get(f"{base}/api/2.0/mlflow/experiments/search?max_results=1")
    _expect(refused.status_code == 401, f"unauthenticated API answered {refused.status_code}")
    found = t.get(f"{base}/api/2.0/mlflow/experiments/search?max_results=5", ("admin", password))
    _expect(found.status_code == 200, f"API answered {found.status_code}")
    return f"healthy; API behind basic auth ({len(found.json().get('experiments', []))} exp.)"


def _prefect(t: Target, host: str, address: str) -> str:
    password = t.secret("prefect/server")["auth_password"]
    base = f"https://{address}:4200/api"
    _expect(t.get(f"{base}/health").status_code == 200, "/api/health is not 200")
    refused = t.get(f"{base}/admin/version")
    _expect(refused.status_code == 401, f"unauthenticated API answered {refused.status_code}")
    version = t.get(f"{base}/admin/version", ("admin", password))
    _expect(version.status_code == 200, f"API answered {version.status_code}")
    return f"healthy; API {version.json()} behind basic auth"


def _prometheus(t: Target, host: str, address: str) -> str:
    password = t.secret("prometheus/web")["password"]
    reply = t.get(f"https://{address}:9090/api/v1/targets?state=active", ("admin", password))
    _expect(reply.status_code == 200, f"targets answered {reply.status_code}")
    targets = reply.json()["data"]["activeTargets"]
    down = [
        f"{x['labels']['job']} {x['labels']['instance']}" for x in targets if x["health"] != "up"
    ]
    _expect(not down, "down: " + ", ".join(down))
    return f"{len(targets)} targets up"


# Component -> (inventory group, check on the group's first host).
COMPONENTS: dict[str, tuple[str, Callable]] = {
    "vault": ("vault", _vault),
    "object_store": ("object_store", _object_store),
    "postgres": ("postgres", _postgres),
    "kafka": ("kafka", _kafka),
    "spark": ("spark_master", _spark),
    "mlflow": ("mlflow", _mlflow),
    "prefect": ("prefect_server", _prefect),
    "prometheus": ("prometheus", _prometheus),
}


def run(env: str, only: Iterable[str] = ()) -> list[Check]:
    only = list(only)
    unknown = [c for c in only if c not in COMPONENTS]
    if unknown:
        raise DatalabError(
            f"unknown component(s) {', '.join(unknown)}; choose from {', '.join(COMPONENTS)}"
        )
    ca = hosts.key_dir(env) / "platform-root-ca.pem"
    if not ca.exists():
        raise DatalabError(f"no platform CA at {ca}: {env} is not converged (`datalab up`)")
    target = Target(env, hosts.contract(env), ca)
    checks = []
    for component, (group, check) in COMPONENTS.items():
        if only and component not in only:
            continue
        where = target.first(group)
        if where is None:
            checks.append(Check(component, group, None, "not deployed"))
            continue
        host, address = where
        start = time.monotonic()
        try:
            detail, ok = check(target, host, address), True
        except Failed as finding:
            ok, detail = False, str(finding)
        except (
            DatalabError,
            OSError,
            requests.RequestException,
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
            KeyError,
            ValueError,
        ) as error:
            ok, detail = False, f"{error.__class__.__name__}: {error}"[:300]
        checks.append(Check(component, host, ok, detail, time.monotonic() - start))
    return checks
