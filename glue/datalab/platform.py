"""A converged environment as its users see it: its hosts (the inventory contract), the
platform CA that verifies every listener, credentials from Vault, and clients for the
object store (S3), Prefect's API and MLflow's. Used by `datalab smoke`, `deploy` and `run`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.config
import requests

from datalab import DatalabError, catalog, hosts
from datalab import secrets as secrets_mod
from datalab import vault as vault_mod

S3_PORT = catalog.port("s3")
PREFECT_PORT = catalog.port("prefect")
MLFLOW_PORT = catalog.port("mlflow")
KAFKA_PORT = catalog.port("kafka")  # the client listener: SASL_SSL with SCRAM-SHA-512


@dataclass
class Platform:
    env: str
    contract: dict
    ca: Path

    @classmethod
    def of(cls, env: str) -> Platform:
        """The environment, once converged (its platform CA is written by site.yml)."""
        ca = hosts.key_dir(env) / "platform-root-ca.pem"
        if not ca.exists():
            raise DatalabError(f"no platform CA at {ca}: {env} is not converged (`datalab up`)")
        return cls(env, hosts.contract(env), ca)

    @property
    def inventory(self) -> Path:
        return hosts.key_dir(self.env) / "inventory.yml"

    def first(self, group: str) -> tuple[str, str] | None:
        """(host, address) of the group's first host, or None if the group is empty."""
        members = self.contract["groups"].get(group) or []
        if not members:
            return None
        return members[0], self.contract["hosts"][members[0]]["address"]

    def need(self, group: str) -> tuple[str, str]:
        where = self.first(group)
        if where is None:
            raise DatalabError(f"{self.env} has no host in group {group}")
        return where

    def members(self, group: str) -> list[str]:
        return list(self.contract["groups"].get(group) or [])

    def vault(self) -> vault_mod.Env:
        return vault_mod.environment(self.env)

    def secret(self, path: str) -> dict:
        return secrets_mod.get(self.vault(), path)[0]

    def get(self, url: str, auth: tuple[str, str] | None = None) -> requests.Response:
        return requests.get(url, auth=auth, verify=str(self.ca), timeout=20)

    def s3(self, consumer: str):
        """A boto3 S3 client on the first object store host with `consumer`'s key
        (datalab/object_store/<consumer>: each consumer may touch only its buckets)."""
        _, address = self.need("object_store")
        key = self.secret(f"object_store/{consumer}")
        # A session of its own: boto3's default session is not thread-safe, and smoke
        # checks run side by side.
        return boto3.session.Session().client(
            "s3",
            endpoint_url=f"https://{address}:{S3_PORT}",
            aws_access_key_id=key["access_key"],
            aws_secret_access_key=key["secret_key"],
            region_name="us-east-1",
            verify=str(self.ca),
            config=botocore.config.Config(retries={"max_attempts": 3}, connect_timeout=10),
        )

    def prefect(self) -> PrefectAPI:
        _, address = self.need("prefect_server")
        password = self.secret("prefect/server")["auth_password"]
        return PrefectAPI(f"https://{address}:{PREFECT_PORT}/api", ("admin", password), self.ca)

    def kafka_config(self, user: str) -> dict[str, str]:
        """librdkafka settings for the Kafka user `user` (SCRAM password from Vault at
        datalab/kafka/scram-<user>), TLS verified against the platform CA."""
        brokers = [self.contract["hosts"][h]["address"] for h in self.members("kafka")]
        if not brokers:
            raise DatalabError(f"{self.env} has no host in group kafka")
        return {
            "bootstrap.servers": ",".join(f"{b}:{KAFKA_PORT}" for b in brokers),
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": user,
            "sasl.password": self.secret(f"kafka/scram-{user}")["password"],
            "ssl.ca.location": str(self.ca),
        }

    def mlflow(self) -> MLflowAPI:
        _, address = self.need("mlflow")
        password = self.secret("mlflow/server")["admin_password"]
        return MLflowAPI(
            f"https://{address}:{MLFLOW_PORT}/api/2.0/mlflow", ("admin", password), self.ca
        )


@dataclass
class RestAPI:
    """A JSON API over TLS (verified against the platform CA) with basic auth."""

    base: str
    auth: tuple[str, str]
    ca: Path
    name = "API"

    def call(self, method: str, path: str, body: dict | None = None, missing_ok: bool = False):
        """The JSON answer; None for a 404 when `missing_ok`."""
        reply = requests.request(
            method, f"{self.base}{path}", json=body, auth=self.auth, verify=str(self.ca), timeout=30
        )
        if missing_ok and reply.status_code == 404:
            return None
        if reply.status_code >= 400:
            raise DatalabError(
                f"{self.name} {method} {path}: {reply.status_code} {reply.text[:300]}"
            )
        return reply.json() if reply.content else None


# Terminal flow run states (Prefect's StateType).
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class PrefectAPI(RestAPI):
    """Prefect's REST API: the few calls the glue needs (no Prefect client library in the
    operator's environment)."""

    name = "Prefect API"

    def flow_id(self, name: str) -> str:
        return self.call("POST", "/flows/", {"name": name})["id"]

    def deployment(self, flow: str, name: str) -> dict | None:
        return self.call("GET", f"/deployments/name/{flow}/{name}", missing_ok=True)

    def run_deployment(
        self, deployment_id: str, parameters: dict, timeout_s: float, progress=None
    ) -> dict:
        """Create a flow run and wait until it ends; `progress(state)` on each change."""
        run = self.call(
            "POST", f"/deployments/{deployment_id}/create_flow_run", {"parameters": parameters}
        )
        deadline, seen = time.monotonic() + timeout_s, None
        while True:
            run = self.call("GET", f"/flow_runs/{run['id']}")
            state = run["state"]["type"] if run.get("state") else "PENDING"
            if state != seen and progress:
                progress(run["state"]["name"] if run.get("state") else state)
            seen = state
            if state in FINAL_STATES:
                return run
            if time.monotonic() > deadline:
                raise DatalabError(
                    f"flow run {run['name']} still {state} after {timeout_s:.0f}s "
                    f"(Prefect UI: {self.base.removesuffix('/api')}/runs/flow-run/{run['id']})"
                )
            time.sleep(2)

    def logs(self, flow_run_id: str) -> list[str]:
        logs, offset = [], 0
        while True:
            page = self.call(
                "POST",
                "/logs/filter",
                {
                    "logs": {"flow_run_id": {"any_": [flow_run_id]}},
                    "sort": "TIMESTAMP_ASC",
                    "limit": 200,
                    "offset": offset,
                },
            )
            logs += [entry["message"] for entry in page]
            if len(page) < 200:
                return logs
            offset += 200


class MLflowAPI(RestAPI):
    """MLflow's REST API (tracking and model registry), as the admin."""

    name = "MLflow API"

    def latest_version(self, model: str) -> str | None:
        found = self.call("GET", f"/registered-models/get?name={model}", missing_ok=True)
        if not found:
            return None
        versions = found["registered_model"].get("latest_versions") or []
        return max((v["version"] for v in versions), key=int, default=None)

    def model_problems(self, model: str, version: str) -> list[str]:
        """What is wrong with a registered version: not READY, or its run missing, not
        FINISHED or without metrics. [] when the run and the version exist."""
        found = self.call(
            "GET", f"/model-versions/get?name={model}&version={version}", missing_ok=True
        )
        if not found:
            return [f"model {model} has no version {version}"]
        mv = found["model_version"]
        if mv.get("status") != "READY":
            return [f"model {model} version {version} is {mv.get('status')}"]
        run = self.call("GET", f"/runs/get?run_id={mv['run_id']}", missing_ok=True)
        if not run:
            return [f"the run {mv['run_id']} of {model} version {version} is missing"]
        status = run["run"]["info"]["status"]
        metrics = {m["key"] for m in run["run"]["data"].get("metrics", [])}
        if status != "FINISHED" or not {"mae", "r2"} <= metrics:
            return [f"run {mv['run_id']} is {status} with metrics {sorted(metrics)}"]
        return []
