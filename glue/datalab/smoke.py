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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import botocore.exceptions
import requests

from datalab import DatalabError, catalog, converge, dashboards, discovery, jobs
from datalab import vault as vault_mod
from datalab.platform import Platform


@dataclass
class Check:
    component: str
    what: str
    ok: bool | None  # None: not deployed in this environment
    detail: str
    seconds: float = 0.0


SMOKE_ROWS = 2000  # the medallion check's batch: every kind of bad record, in seconds


class Failed(Exception):
    """A check's finding (not a crash): shown in the table."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


# --- The checks: each returns a detail string, raises Failed (or any error) otherwise ---


def _vault(t: Platform, host: str, address: str) -> str:
    rows = vault_mod.status(t.vault())
    bad = [f"{r['node']}: {r['role']}" for r in rows if r["role"] not in ("active", "standby")]
    _expect(not bad, "; ".join(bad))
    _expect(any(r["role"] == "active" for r in rows), "no active node")
    return ", ".join(f"{r['node']} {r['role']}" for r in rows)


def _object_store(t: Platform, host: str, address: str) -> str:
    s3 = t.s3("admin")
    name, body = f"smoke/{random_tokens.token_hex(8)}", random_tokens.token_bytes(1024)
    s3.put_object(Bucket="landing", Key=name, Body=body)
    try:
        _expect(s3.get_object(Bucket="landing", Key=name)["Body"].read() == body, "read differs")
    finally:
        s3.delete_object(Bucket="landing", Key=name)
    return "put, get and delete of 1 KiB in landing/"


def _postgres(t: Platform, host: str, address: str) -> str:
    """The server must switch to TLS (SSLRequest) with a certificate for its FQDN that
    the platform CA verifies."""
    context = ssl.create_default_context(cafile=str(t.ca))
    fqdn = t.contract["hosts"][host]["fqdn"]
    with socket.create_connection((address, catalog.port("postgres")), timeout=10) as raw:
        raw.sendall(struct.pack("!ii", 8, 80877103))
        _expect(raw.recv(1) == b"S", "the server refused TLS")
        with context.wrap_socket(raw, server_hostname=fqdn) as tls:
            version = tls.version()
    return f"TLS ({version}), certificate for {fqdn} from the platform CA"


def _kafka(t: Platform, host: str, address: str) -> str:
    """One shell on the broker host (each tool is a JVM start): make the topic once, produce
    a fresh token as `admin` over TLS + SCRAM, read the topic back until 10 s of quiet."""
    token = f"smoke-{random_tokens.token_hex(8)}"
    config = "/etc/kafka/client-admin.properties"
    client = f"--bootstrap-server {address}:{catalog.port('kafka')}"
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
    return f"produce + consume over TLS + SCRAM on {address}:{catalog.port('kafka')}"


def _spark(t: Platform, host: str, address: str) -> str:
    state = t.get(f"https://{address}:{catalog.ui_port('spark-master')}/json/").json()
    _expect(state.get("status") == "ALIVE", f"master status {state.get('status')}")
    workers = state.get("aliveworkers", 0)
    _expect(workers >= 1, "no alive worker")
    return f"master ALIVE, {workers} worker(s), {state.get('cores', '?')} cores"


def _behind_auth(t: Platform, health: str, api: str, auth: tuple[str, str]) -> dict:
    """A service healthy, whose API refuses a request without credentials and answers
    one with them; returns the answer."""
    _expect(t.get(health).status_code == 200, f"{health} is not 200")
    refused = t.get(api)
    _expect(refused.status_code == 401, f"unauthenticated API answered {refused.status_code}")
    answer = t.get(api, auth)
    _expect(answer.status_code == 200, f"API answered {answer.status_code}")
    return answer.json()


def _mlflow(t: Platform, host: str, address: str) -> str:
    base = f"https://{address}:{catalog.port('mlflow')}"
    found = _behind_auth(
        t,
        f"{base}/health",
        f"{base}/api/2.0/mlflow/experiments/search?max_results=5",
        ("admin", t.secret("mlflow/server")["admin_password"]),
    )
    return f"healthy; API behind basic auth ({len(found.get('experiments', []))} exp.)"


def _prefect(t: Platform, host: str, address: str) -> str:
    base = f"https://{address}:{catalog.port('prefect')}/api"
    version = _behind_auth(
        t,
        f"{base}/health",
        f"{base}/admin/version",
        ("admin", t.secret("prefect/server")["auth_password"]),
    )
    return f"healthy; API {version} behind basic auth"


def _prometheus(t: Platform, host: str, address: str) -> str:
    password = t.secret("prometheus/web")["password"]
    reply = t.get(
        f"https://{address}:{catalog.port('prometheus')}/api/v1/targets?state=active",
        ("admin", password),
    )
    _expect(reply.status_code == 200, f"targets answered {reply.status_code}")
    targets = reply.json()["data"]["activeTargets"]
    down = [
        f"{x['labels']['job']} {x['labels']['instance']}" for x in targets if x["health"] != "up"
    ]
    _expect(not down, "down: " + ", ".join(down))
    return f"{len(targets)} targets up"


def _dashboards(t: Platform, host: str, address: str) -> str:
    """Perses over TLS with the admin's login; its Prometheus datasource answers, and
    every panel of every provisioned dashboard has data (the jobs dashboard's after a
    medallion run: `datalab run medallion`)."""
    session = dashboards.login(t)
    _expect(bool(session.query("up")), "the Prometheus datasource returned no series for `up`")
    count, empty = dashboards.empty_panels(session)
    _expect(count > 0, "no dashboard is provisioned")
    _expect(not empty, "no data: " + ", ".join(empty))
    return f"datasource healthy; {count} dashboards, every panel has data"


def _medallion(t: Platform, host: str, address: str) -> str:
    """The deployed pipeline on a batch of its own (a fresh dataset, dropped after):
    every row accounted for and gold equal to the baseline on the same files. Files
    only: the Kafka source adds ~25 s to bronze here, and Kafka has its own check
    (`datalab run medallion` proves the topic -> bronze path)."""
    run = jobs.run_medallion(
        t.env,
        SMOKE_ROWS,
        dataset=f"smoke-{random_tokens.token_hex(4)}",
        compare=True,
        drop_after=True,
        timeout_s=600,
        kafka_share=0.0,
    )
    _expect(run.ok, "; ".join(run.problems))
    layers = ", ".join(f"{k.strip()} {v:.0f}s" for k, v in run.seconds.items() if k.startswith(" "))
    return f"{run.rows} rows to gold on the cluster = baseline; accounting exact ({layers})"


def _model(t: Platform, host: str, address: str) -> str:
    """The training flow's output: the model's newest registered version is READY and
    its MLflow run FINISHED with its metrics (`datalab run train` makes one)."""
    api = t.mlflow()
    version = api.latest_version(jobs.MODEL)
    _expect(version is not None, f"no version of model {jobs.MODEL}: run `datalab run train`")
    problems = api.model_problems(jobs.MODEL, version)
    _expect(not problems, "; ".join(problems))
    return f"{jobs.MODEL} version {version} READY; its run FINISHED with metrics"


def _discovery(t: Platform, host: str, address: str) -> str:
    """Every catalog name from every host's resolver: A = the group's addresses (one of
    them for active.vault), SRV = the catalog's port."""
    count, problems = discovery.check_everywhere(t.inventory)
    _expect(not problems, "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
    return f"{count} service names answer right on every host (A and SRV)"


# Component -> (inventory group, check on the group's first host).
COMPONENTS: dict[str, tuple[str, Callable]] = {
    "vault": ("vault", _vault),
    "discovery": ("etcd", _discovery),
    "object_store": ("object_store", _object_store),
    "postgres": ("postgres", _postgres),
    "kafka": ("kafka", _kafka),
    "spark": ("spark_master", _spark),
    "mlflow": ("mlflow", _mlflow),
    "prefect": ("prefect_server", _prefect),
    "medallion": ("prefect_workers", _medallion),
    "model": ("mlflow", _model),
    "prometheus": ("prometheus", _prometheus),
    "dashboards": ("perses", _dashboards),
}


def _checked(target: Platform, component: str, check: Callable, host: str, address: str) -> Check:
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
    return Check(component, host, ok, detail, time.monotonic() - start)


def run(env: str, only: Iterable[str] = ()) -> list[Check]:
    """The checks side by side (the medallion run is most of the time and mostly waits
    on the cluster), reported in COMPONENTS' order."""
    only = list(only)
    unknown = [c for c in only if c not in COMPONENTS]
    if unknown:
        raise DatalabError(
            f"unknown component(s) {', '.join(unknown)}; choose from {', '.join(COMPONENTS)}"
        )
    target = Platform.of(env)
    checks: list[Check | Future] = []
    with ThreadPoolExecutor(max_workers=len(COMPONENTS)) as pool:
        for component, (group, check) in COMPONENTS.items():
            if only and component not in only:
                continue
            where = target.first(group)
            if where is None:
                checks.append(Check(component, group, None, "not deployed"))
            else:
                checks.append(pool.submit(_checked, target, component, check, *where))
    return [c.result() if isinstance(c, Future) else c for c in checks]
