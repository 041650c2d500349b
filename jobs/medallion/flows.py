"""Prefect 3 flows: the medallion (bronze -> silver -> gold) for one batch, training, and
maintenance. Each step is a task with retries and logs; the Spark work is the plain
functions of the other modules, in a session on the cluster (`lake.cluster_session`)."""

from __future__ import annotations

import json
import time

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from . import bronze, generate, gold, lake, maintenance, metrics, silver, tables

# The line a deployed medallion run logs last: what `datalab run medallion` and
# `datalab smoke` read back from the run's logs (the flow's result is not persisted).
REPORT = "MEDALLION-REPORT "
TRAINED = "TRAINED-MODEL "  # the training flow's line (`datalab run train`)

RETRIES = 2
RETRY_DELAY_S = 30


def session(app: str):
    """The Spark session of a flow (tests replace it with a local one)."""
    return lake.cluster_session(app)


def _lake(root: str | None, dataset: str = "orders") -> lake.Lake:
    return lake.Lake.under(root, dataset) if root else lake.Lake.buckets(dataset)


@task(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_S, cache_policy=NO_CACHE)
def bronze_task(layout: lake.Lake, batch_id: str, kafka: dict | None = None) -> dict[str, int]:
    """Landing files, and the Kafka topic when `kafka` = {"topic": ..., "options": {...}}
    (kafka.bootstrap.servers, SASL/TLS settings) is given; rows appended per source."""
    log = get_run_logger()
    spark = session("medallion-bronze")
    done = bronze.ingest(spark, layout.landing, layout.bronze, batch_id)
    if kafka:
        records = bronze.read_kafka(spark, layout.bronze, kafka["topic"], kafka["options"])
        done.append(bronze.ingest_kafka_frame(spark, records, layout.bronze, batch_id))
    for d in done:
        log.info("bronze %s: %d files, %d rows (batch %s)", d.source, d.files, d.rows, batch_id)
    return {d.source: d.rows for d in done}


@task(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_S, cache_policy=NO_CACHE)
def silver_task(layout: lake.Lake, batch_id: str) -> silver.Result:
    log = get_run_logger()
    spark = session("medallion-silver")
    result = silver.run(spark, layout.bronze, layout.silver, layout.quarantine, batch_id)
    log.info("silver %s", result)
    if not result.balanced():
        raise RuntimeError(f"silver lost rows: {result}")
    return result


@task(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_S, cache_policy=NO_CACHE)
def gold_task(layout: lake.Lake, batch_id: str) -> list:
    log = get_run_logger()
    spark = session("medallion-gold")
    days = silver.days_of_batch(spark, layout.silver, batch_id)
    written = gold.rebuild(spark, layout.silver, layout.gold, days)
    log.info("gold: %d rows for %d days %s", written, len(days), [str(d) for d in days])
    return days


@task(cache_policy=NO_CACHE)
def gold_rows_task(layout: lake.Lake, days: list) -> list[list]:
    """The gold rows of `days` (small: days x categories x regions), for a check."""
    spark = session("medallion-report")
    wanted = {str(d) for d in days}
    rows = tables.read(spark, layout.gold).collect()
    return sorted(
        [str(r["order_date"]), r["category"], r["region"], r["orders"], r["units"], str(r["value"])]
        for r in rows
        if str(r["order_date"]) in wanted
    )


@task(cache_policy=NO_CACHE)
def drop_task(layout: lake.Lake) -> None:
    """Delete the run's tables (a smoke check's own dataset); landing is the caller's."""
    spark = session("medallion-drop")
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    for uri in (layout.bronze, layout.silver, layout.quarantine, layout.gold):
        path = jvm.org.apache.hadoop.fs.Path(uri)
        path.getFileSystem(conf).delete(path, True)


@flow(name="medallion", log_prints=True)
def medallion(
    batch_id: str | None = None,
    lake_root: str | None = None,
    kafka_topic: str | None = None,
    dataset: str = "orders",
    report_gold: bool = False,
    drop_after: bool = False,
):
    """One batch from the landing bucket (and the Kafka topic `kafka_topic`, read with
    this host's Kafka source options) to gold. A scheduled run (no batch id) is named
    after its flow run. Logs one JSON report line (`REPORT`): the accounting, seconds
    per layer and, with `report_gold`, the gold rows of the days the batch touched."""
    batch_id = batch_id or f"run-{flow_run.get_name() or 'local'}"
    layout = _lake(lake_root, dataset)
    kafka = {"topic": kafka_topic, "options": lake.kafka_options()} if kafka_topic else None
    seconds = {}
    start = time.monotonic()
    sources = bronze_task(layout, batch_id, kafka)
    seconds["bronze"], mark = time.monotonic() - start, time.monotonic()
    result = silver_task(layout, batch_id)
    seconds["silver"], mark = time.monotonic() - mark, time.monotonic()
    days = gold_task(layout, batch_id)
    seconds["gold"] = time.monotonic() - mark
    report = {"batch_id": batch_id, "dataset": dataset, **vars(result), "seconds": seconds}
    report["bronze_sources"] = sources
    report["days"] = [str(d) for d in days]
    if report_gold:
        report["gold"] = gold_rows_task(layout, days)
    if drop_after:
        drop_task(layout)
    get_run_logger().info("%s%s", REPORT, json.dumps(report))
    if not drop_after:  # a dropped dataset (smoke's) leaves no figures behind
        metrics.write(report)  # for Prometheus (the jobs dashboard), on the platform
    return result


@task(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_S, cache_policy=NO_CACHE)
def upload_task(files: list, bucket: str, prefix: str, endpoint_url: str | None) -> list[str]:
    import boto3  # credentials from the environment (the `prefect` key may write landing)

    return generate.upload(files, boto3.client("s3", endpoint_url=endpoint_url), bucket, prefix)


@flow(name="generate-orders")
def generate_orders(
    rows: int,
    day: str,
    batch_id: str,
    bucket: str = "landing",
    prefix: str = "orders",
    endpoint_url: str | None = None,
    seed: int = 6,
) -> dict:
    """N sample orders for `day` (ISO date) as landing files in the object store; returns
    what was injected (the accounting a smoke check compares with silver)."""
    import tempfile
    from datetime import date
    from pathlib import Path

    records, injected = generate.generate(rows, date.fromisoformat(day), batch_id, seed)
    with tempfile.TemporaryDirectory() as scratch:
        files = generate.write_landing(records, Path(scratch), batch_id)
        keys = upload_task(files, bucket, prefix, endpoint_url)
    get_run_logger().info("landed %d rows in %d files: %s", rows, len(keys), injected)
    return {k: v for k, v in vars(injected).items() if k != "late_days"}


@flow(name="train-orders-model")
def training(
    tracking_uri: str | None = None,
    lake_root: str | None = None,
    dataset: str = "orders",
    model_name: str = "orders-daily-value",
):
    """Train on the dataset's gold and register a model version. The tracking server is
    `tracking_uri` or, on the platform's workers, MLFLOW_TRACKING_URI (the prefect role
    sets it with the jobs' MLflow user). Logs one JSON line (`TRAINED`): run, version,
    metrics."""
    import os

    from . import train  # pandas, scikit-learn and MLflow: only this flow needs them

    tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not tracking_uri:
        raise ValueError("no tracking server: pass tracking_uri or set MLFLOW_TRACKING_URI")
    spark = session("medallion-train")
    data = train.gold_frame(spark, _lake(lake_root, dataset).gold)
    trained = train.train(data, tracking_uri, model_name=model_name)
    report = {"model": model_name, **vars(trained)}
    get_run_logger().info("%s%s", TRAINED, json.dumps(report))
    return trained


@flow(name="lake-maintenance", retries=1, retry_delay_seconds=RETRY_DELAY_S)
def lake_maintenance(
    lake_root: str | None = None,
    retention_hours: float = maintenance.MIN_RETENTION_HOURS,
    force: bool = False,
):
    layout = _lake(lake_root)
    spark = session("medallion-maintenance")
    tables = [layout.bronze, layout.silver, layout.quarantine, layout.gold]
    done = maintenance.maintain(spark, tables, retention_hours, force)
    for d in done:
        get_run_logger().info("maintained %s: +%d -%d files", d.uri, d.files_added, d.files_removed)
    return done
