"""Prefect 3 flows: the medallion (bronze -> silver -> gold) for one batch, training, and
maintenance. Each step is a task with retries and logs; the Spark work is the plain
functions of the other modules, in a session on the cluster (`lake.cluster_session`)."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from . import bronze, generate, gold, lake, maintenance, silver, train

RETRIES = 2
RETRY_DELAY_S = 30


def session(app: str):
    """The Spark session of a flow (tests replace it with a local one)."""
    return lake.cluster_session(app)


def _lake(root: str | None) -> lake.Lake:
    return lake.Lake.under(root) if root else lake.Lake.buckets()


@task(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_S, cache_policy=NO_CACHE)
def bronze_task(layout: lake.Lake, batch_id: str, kafka: dict | None = None) -> int:
    """Landing files, and the Kafka topic when `kafka` = {"topic": ..., "options": {...}}
    (kafka.bootstrap.servers, SASL/TLS settings) is given."""
    log = get_run_logger()
    spark = session("medallion-bronze")
    done = bronze.ingest(spark, layout.landing, layout.bronze, batch_id)
    if kafka:
        records = bronze.read_kafka(spark, layout.bronze, kafka["topic"], kafka["options"])
        done.append(bronze.ingest_kafka_frame(spark, records, layout.bronze, batch_id))
    for d in done:
        log.info("bronze %s: %d files, %d rows (batch %s)", d.source, d.files, d.rows, batch_id)
    return sum(d.rows for d in done)


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
def gold_task(layout: lake.Lake, batch_id: str) -> int:
    log = get_run_logger()
    spark = session("medallion-gold")
    days = silver.days_of_batch(spark, layout.silver, batch_id)
    written = gold.rebuild(spark, layout.silver, layout.gold, days)
    log.info("gold: %d rows for %d days %s", written, len(days), [str(d) for d in days])
    return written


@flow(name="medallion", log_prints=True)
def medallion(batch_id: str, lake_root: str | None = None, kafka: dict | None = None):
    """One batch from the landing bucket (and the Kafka topic) to gold."""
    layout = _lake(lake_root)
    bronze_task(layout, batch_id, kafka)
    result = silver_task(layout, batch_id)
    gold_task(layout, batch_id)
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
    tracking_uri: str, lake_root: str | None = None, model_name: str = "orders-daily-value"
):
    spark = session("medallion-train")
    data = train.gold_frame(spark, _lake(lake_root).gold)
    trained = train.train(data, tracking_uri, model_name=model_name)
    get_run_logger().info("model %s version %s: %s", model_name, trained.version, trained.metrics)
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
