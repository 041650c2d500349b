"""`datalab deploy` and `datalab run medallion`: the jobs of jobs/medallion on an
environment.

deploy: the package becomes one release, named by its content hash. The archive is kept
in the object store (s3://prefect/releases/) and unpacked on every Prefect worker
(playbooks/jobs.yml); each flow becomes a deployment on the work pool whose pull step is
that release's directory, with its schedule from the environment file (`job_schedules`).
Flow runs on a Spark host are drivers on the cluster (spark://, authenticated and
encrypted; the prefect role gives the worker the spark role's driver settings).

run: a batch of generated orders is landed in s3://landing/<dataset>/ with the `prefect`
key, the `medallion` deployment runs it, and its report line comes back from the run's
logs: the accounting (bronze = silver + quarantined + duplicates, each checked against
what the generator injected) and seconds per layer. With `compare`, gold is checked
against the single-process baseline (polars) on the same files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from datalab import DatalabError, converge, paths
from datalab.platform import Platform, PrefectAPI

JOBS_DIR = paths.REPO / "jobs"
PACKAGE = "medallion"
RELEASES_BUCKET, RELEASES_PREFIX = "prefect", "releases"
RELEASES_DIR = "/opt/datalab/jobs"  # on the workers (playbooks/jobs.yml)
WORK_POOL = "default"  # the prefect role's prefect_work_pool
# Deployments: name -> (flow name, entrypoint, default parameters).
DEPLOYMENTS = {
    "medallion": ("medallion", f"{PACKAGE}.flows:medallion", {}),
    "train-orders-model": ("train-orders-model", f"{PACKAGE}.flows:training", {}),
    "lake-maintenance": ("lake-maintenance", f"{PACKAGE}.flows:lake_maintenance", {}),
}
# The flows' report lines (jobs/medallion/flows.REPORT and .TRAINED).
REPORT = "MEDALLION-REPORT "
TRAINED = "TRAINED-MODEL "
MODEL = "orders-daily-value"  # the training flow's registered model


def _medallion():
    """The jobs package, importable from this checkout (generator and baseline)."""
    if str(JOBS_DIR) not in sys.path:
        sys.path.insert(0, str(JOBS_DIR))
    import medallion.baseline
    import medallion.generate

    return medallion


def archive() -> tuple[bytes, str]:
    """The package as a reproducible .tar.gz (sorted, owner root, no times) and its
    release name (medallion-<first 12 hex of the archive's sha256>)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted((JOBS_DIR / PACKAGE).glob("*.py")):
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{PACKAGE}/{path.name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    packed = gzip.compress(raw.getvalue(), mtime=0)
    return packed, f"{PACKAGE}-{hashlib.sha256(packed).hexdigest()[:12]}"


@dataclass
class Deployed:
    release: str
    workers: list[str]
    deployments: dict[str, str] = field(default_factory=dict)  # name -> schedule or ""
    changed: int = 0


def deploy(env: str, stream: bool = False) -> Deployed:
    platform = Platform.of(env)
    workers = platform.members("prefect_workers")
    if not workers:
        raise DatalabError(f"{env} has no Prefect worker (host group prefect_workers)")
    spark_hosts = set(platform.members("spark_master") + platform.members("spark_workers"))
    if not spark_hosts.intersection(workers):
        raise DatalabError(
            f"no Prefect worker of {env} is a Spark host: the medallion's flow runs are "
            "Spark drivers (place prefect_workers on the compute group)"
        )
    packed, release = archive()
    platform.s3("prefect").put_object(
        Bucket=RELEASES_BUCKET, Key=f"{RELEASES_PREFIX}/{release}.tar.gz", Body=packed
    )
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / f"{release}.tar.gz"
        local.write_bytes(packed)
        result = converge.playbook(
            platform.inventory,
            "playbooks/jobs.yml",
            extra_vars=[f"jobs_archive={local}", f"jobs_release={release}"],
            stream=stream,
        )
    if result.returncode != 0:
        raise DatalabError(f"installing {release} on the workers failed:\n{result.output[-3000:]}")
    schedules = platform.contract["vars"].get("datalab_job_schedules") or {}
    api = platform.prefect()
    done = Deployed(release, workers, changed=result.total_changed)
    for name, (flow, entrypoint, parameters) in DEPLOYMENTS.items():
        cron = schedules.get(name, "")
        api.call(
            "POST",
            "/deployments/",
            {
                "name": name,
                "flow_id": api.flow_id(flow),
                "work_pool_name": WORK_POOL,
                "entrypoint": entrypoint,
                "version": release,
                "description": f"{entrypoint} from {release} (datalab deploy)",
                "pull_steps": [
                    {
                        "prefect.deployments.steps.set_working_directory": {
                            "directory": f"{RELEASES_DIR}/{release}"
                        }
                    }
                ],
                "parameters": parameters,
                "enforce_parameter_schema": False,
                # Two bronze runs at once could both append the same new files.
                "concurrency_limit": 1,
                "schedules": (
                    [{"schedule": {"cron": cron, "timezone": "UTC"}, "active": True}]
                    if cron
                    else []
                ),
            },
        )
        done.deployments[name] = cron
    return done


@dataclass
class Run:
    batch_id: str
    rows: int
    flow_run: str
    state: str
    report: dict
    injected: dict
    seconds: dict[str, float]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED" and not self.problems


def _report(logs: list[str], prefix: str = REPORT) -> dict:
    for line in reversed(logs):
        if line.startswith(prefix):
            return json.loads(line[len(prefix) :])
    return {}


def _report_of(api, flow_run_id: str, wait_s: float, prefix: str = REPORT) -> dict:
    """The run's report; its logs reach the server in batches, after the final state."""
    deadline = time.monotonic() + wait_s
    while True:
        report = _report(api.logs(flow_run_id), prefix)
        if report or time.monotonic() > deadline:
            return report
        time.sleep(2)


def _deployed(env: str, name: str) -> tuple[Platform, PrefectAPI, dict]:
    """The environment, its Prefect API and the deployment `name` (flow of the same name)."""
    platform = Platform.of(env)
    api = platform.prefect()
    deployment = api.deployment(name, name)
    if deployment is None:
        raise DatalabError(f"{name} is not deployed on {env}: run `datalab deploy`")
    return platform, api, deployment


def _outcome(api, flow_run: dict, prefix: str) -> tuple[str, dict, list[str]]:
    """A finished run's state, its report line and what is wrong (not completed, no report)."""
    state = flow_run["state"]["type"]
    report = _report_of(api, flow_run["id"], 30 if state == "COMPLETED" else 0, prefix)
    if state != "COMPLETED":
        return state, report, [f"flow run {flow_run['name']} ended {flow_run['state']['name']}"]
    if not report:
        return state, report, [f"flow run {flow_run['name']} logged no report ({prefix.strip()})"]
    return state, report, []


def _accounting(report: dict, landed: Landed) -> list[str]:
    """Every row is accounted for, and each term is what the generator put in."""
    problems = []
    expected = {
        "bronze_rows": landed.injected["rows"],
        "silver_rows": landed.clean,
        "quarantined": landed.bad,
        "duplicates": landed.injected["duplicates"],
    }
    for term, want in expected.items():
        if report.get(term) != want:
            problems.append(f"{term} {report.get(term)} != {want} injected")
    return problems


def _gold_differences(report: dict, files: list[Path]) -> list[str]:
    """Gold from the cluster vs the baseline (polars, one process) on the same files."""
    expected = _medallion().baseline.run(files).gold
    want = sorted(
        [
            str(r["order_date"]),
            r["category"],
            r["region"],
            r["orders"],
            r["units"],
            r["value_cents"],
        ]
        for r in expected.iter_rows(named=True)
    )
    got = sorted(
        [day, category, region, orders, units, int(Decimal(value) * 100)]
        for day, category, region, orders, units, value in report.get("gold", [])
    )
    if got == want:
        return []
    missing = [w for w in want if w not in got][:3]
    extra = [g for g in got if g not in want][:3]
    return [f"gold differs from the baseline: missing {missing}, unexpected {extra}"]


CHUNK = 500_000  # rows generated (and held in memory) at a time
KAFKA_SHARE = 0.1  # of a run's orders, published to the dataset's topic, not landed as files
KAFKA_PARTITIONS = 3


def kafka_topic(dataset: str) -> str:
    """The dataset's topic (the kafka role lets `ingest` write, `spark` read ingest.*)."""
    return f"ingest.{dataset}"


@dataclass
class Landed:
    files: list[Path]  # landing files, for the object store
    injected: dict  # the generator's counts, summed over the chunks
    clean: int
    bad: int
    messages: list[Path] = field(default_factory=list)  # JSON lines, for the Kafka topic


def land(rows: int, day: date, batch: str, directory: Path, kafka_share: float = 0.0) -> Landed:
    """`rows` generated orders for `day` in `directory`, made in chunks so that ten million
    rows fit in memory (each chunk its own order ids). A `kafka_share` of each chunk goes
    to JSON-lines files for the Kafka topic instead of landing files (bad records and
    duplicates included: the generator shuffles them among the rest)."""
    generate = _medallion().generate
    files, messages, totals, clean, bad = [], [], {}, 0, 0
    for part, start in enumerate(range(0, rows, CHUNK)):
        records, injected = generate.generate(min(CHUNK, rows - start), day, f"{batch}p{part}")
        to_kafka = int(len(records) * kafka_share)
        if to_kafka:  # one JSON-lines file, written as the landing files are
            messages += generate.write_landing(
                records[:to_kafka], directory, f"{batch}p{part}k", files=1
            )
        files += generate.write_landing(records[to_kafka:], directory, f"{batch}p{part}")
        del records
        for k, v in vars(injected).items():
            if k != "late_days":
                totals[k] = totals.get(k, 0) + v
        clean, bad = clean + injected.clean, bad + injected.bad
    return Landed(files, totals, clean, bad, messages)


def publish(platform: Platform, topic: str, messages: list[Path]) -> int:
    """Make the topic if needed (as the Kafka admin) and produce every line of `messages`
    as the `ingest` user, keyed by order id; waits until the broker has acknowledged all."""
    from confluent_kafka import KafkaException, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(platform.kafka_config("admin"))
    replicas = min(3, len(platform.members("kafka")))
    future = admin.create_topics([NewTopic(topic, KAFKA_PARTITIONS, replicas)])[topic]
    try:
        future.result(timeout=60)
    except KafkaException as error:
        if error.args[0].name() != "TOPIC_ALREADY_EXISTS":
            raise DatalabError(f"creating Kafka topic {topic}: {error}") from error
    producer = Producer(
        {
            **platform.kafka_config("ingest"),
            "acks": "all",
            "linger.ms": 50,
            "compression.type": "lz4",
        }
    )
    failures, sent = [], 0

    def delivered(error, message):
        if error is not None:
            failures.append(str(error))

    def send(topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=delivered)
                return
            except BufferError:  # the local queue is full: let deliveries drain
                producer.poll(0.5)

    generate = _medallion().generate
    for path in messages:
        with path.open() as lines:
            sent += generate.publish((json.loads(line) for line in lines), send, topic)
        producer.poll(0)
    left = producer.flush(120)
    if left or failures:
        raise DatalabError(
            f"{left} message(s) to {topic} unconfirmed, {len(failures)} failed: {failures[:3]}"
        )
    return sent


def drop_topic(platform: Platform, topic: str) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(platform.kafka_config("admin"))  # alive until the answer is in
    try:
        admin.delete_topics([topic])[topic].result(timeout=60)
    except KafkaException as error:
        raise DatalabError(f"deleting Kafka topic {topic}: {error}") from error


def run_medallion(
    env: str,
    rows: int,
    dataset: str = "orders",
    day: date | None = None,
    compare: bool = False,
    drop_after: bool = False,
    timeout_s: float = 1800,
    progress=None,
    with_files=None,
    kafka_share: float | None = None,
) -> Run:
    """Land `rows` generated orders for `day` and run the deployed medallion on them.
    `kafka_share` of them (default KAFKA_SHARE if the environment has Kafka) go to the
    dataset's topic instead, which bronze reads too. `with_files(files)` is called with
    every generated file before they are removed (the bench times the baseline on them)."""
    say = progress or (lambda message: None)
    platform, api, deployment = _deployed(env, "medallion")
    if kafka_share is None:
        kafka_share = KAFKA_SHARE if platform.members("kafka") else 0.0
    topic = kafka_topic(dataset) if kafka_share else None
    batch = datetime.now(UTC).strftime("b%Y%m%dt%H%M%S")
    day = day or datetime.now(UTC).date()
    seconds = {}
    mark = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        landed = land(rows, day, batch, Path(scratch), kafka_share)
        seconds["generate"], mark = time.monotonic() - mark, time.monotonic()
        s3 = platform.s3("prefect")
        keys = _medallion().generate.upload(landed.files, s3, "landing", dataset)
        seconds["land"], mark = time.monotonic() - mark, time.monotonic()
        say(f"landed {len(keys)} files under s3://landing/{dataset}/")
        if topic:
            sent = publish(platform, topic, landed.messages)
            seconds["publish"], mark = time.monotonic() - mark, time.monotonic()
            say(f"published {sent:,} orders to Kafka topic {topic}")
        try:
            flow_run = api.run_deployment(
                deployment["id"],
                {
                    "batch_id": batch,
                    "dataset": dataset,
                    "kafka_topic": topic,
                    "report_gold": compare,
                    "drop_after": drop_after,
                },
                timeout_s,
                progress=lambda state: say(f"flow run: {state}"),
            )
        finally:
            if drop_after:
                for key in keys:
                    s3.delete_object(Bucket="landing", Key=key)
                if topic:
                    drop_topic(platform, topic)
        seconds["flow run"] = time.monotonic() - mark
        state, report, problems = _outcome(api, flow_run, REPORT)
        if not problems:
            problems += _accounting(report, landed)
            if compare:
                problems += _gold_differences(report, landed.files + landed.messages)
        if with_files:
            with_files(landed.files + landed.messages)
    seconds.update({f"  {k}": v for k, v in report.get("seconds", {}).items()})
    return Run(batch, rows, flow_run["name"], state, report, landed.injected, seconds, problems)


@dataclass
class Trained:
    flow_run: str
    state: str
    report: dict  # model, run_id, model_uri, version, metrics
    seconds: float
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED" and not self.problems


def run_training(
    env: str, dataset: str = "orders", timeout_s: float = 900, progress=None
) -> Trained:
    """Run the deployed training flow on the dataset's gold; its report names the MLflow
    run and the registered model version, which must then exist on the tracking server."""
    say = progress or (lambda message: None)
    platform, api, deployment = _deployed(env, "train-orders-model")
    mark = time.monotonic()
    flow_run = api.run_deployment(
        deployment["id"],
        {"dataset": dataset},
        timeout_s,
        progress=lambda state: say(f"flow run: {state}"),
    )
    state, report, problems = _outcome(api, flow_run, TRAINED)
    if not problems:
        problems += platform.mlflow().model_problems(report["model"], report["version"])
    seconds = time.monotonic() - mark
    return Trained(flow_run["name"], state, report, seconds, problems)
