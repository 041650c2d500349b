"""Bronze: landing files and Kafka records, as they came, into one append-only Delta
table with ingestion metadata. Idempotent: a file is ingested once per (source, file
name), a Kafka record once per (topic, partition, offset); re-running a batch adds nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from . import domain, tables

RAW_SCHEMA = StructType([StructField(f, StringType()) for f in domain.ORDER_FIELDS])
FORMATS = {domain.SOURCE_JSON: ("json", ".jsonl"), domain.SOURCE_CSV: ("csv", ".csv")}


@dataclass(frozen=True)
class Ingested:
    source: str
    files: int
    rows: int


def list_files(spark: SparkSession, directory: str, suffix: str) -> list[str]:
    """Files under `directory` (any Hadoop file system: file:, s3a:) ending in `suffix`."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(directory)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(path):
        return []
    names = (s.getPath().toString() for s in fs.listStatus(path) if s.isFile())
    return sorted(n for n in names if n.endswith(suffix))


def _file_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _ingested(spark: SparkSession, bronze: str, source: str) -> DataFrame | None:
    """The rows bronze already holds from `source` (None before the first write)."""
    if not tables.exists(spark, bronze):
        return None
    return tables.read(spark, bronze).filter(F.col("_source") == source)


def _with_meta(df: DataFrame, source: str, batch_id: str, **columns) -> DataFrame:
    meta = {
        "_source": F.lit(source),
        "_source_file": F.lit(None).cast("string"),
        "_kafka_topic": F.lit(None).cast("string"),
        "_kafka_partition": F.lit(None).cast("int"),
        "_kafka_offset": F.lit(None).cast("long"),
        "_ingest_time": F.current_timestamp(),
        "_batch_id": F.lit(batch_id),
    }
    meta.update(columns)
    return df.select(*domain.ORDER_FIELDS, *(meta[m].alias(m) for m in domain.BRONZE_META))


def _append(spark: SparkSession, df: DataFrame, bronze: str) -> int:
    df.write.format("delta").mode("append").save(bronze)
    return tables.rows_written(spark, bronze)


def _seen_files(spark: SparkSession, bronze: str) -> set[tuple[str, str]]:
    """(source, file name) of every landing file bronze holds (one query for all sources)."""
    if not tables.exists(spark, bronze):
        return set()
    files = tables.read(spark, bronze).filter(F.col("_source").isin(*FORMATS))
    done = files.select("_source", "_source_file").distinct().collect()
    return {(r[0], _file_name(r[1])) for r in done}


def _read_files(spark: SparkSession, files: list[str], source: str, batch_id: str) -> DataFrame:
    read = spark.read.schema(RAW_SCHEMA)
    raw = (
        read.option("header", "true").csv(files)
        if FORMATS[source][0] == "csv"
        else read.json(files)
    )
    return _with_meta(raw, source, batch_id, _source_file=F.col("_metadata.file_path"))


def ingest_kafka_frame(
    spark: SparkSession, records: DataFrame, bronze: str, batch_id: str
) -> Ingested:
    """Append Kafka records (the Kafka source's columns: topic, partition, offset, value)
    whose (topic, partition, offset) is not yet in bronze."""
    parsed = records.select(
        "topic",
        "partition",
        "offset",
        F.from_json(F.col("value").cast("string"), RAW_SCHEMA).alias("r"),
    ).select("topic", "partition", "offset", "r.*")
    done = _ingested(spark, bronze, domain.SOURCE_KAFKA)
    if done is not None:
        seen = done.select(
            F.col("_kafka_topic").alias("topic"),
            F.col("_kafka_partition").alias("partition"),
            F.col("_kafka_offset").alias("offset"),
        )
        parsed = parsed.join(seen, ["topic", "partition", "offset"], "left_anti")
    rows = _with_meta(
        parsed,
        domain.SOURCE_KAFKA,
        batch_id,
        _kafka_topic=F.col("topic"),
        _kafka_partition=F.col("partition").cast("int"),
        _kafka_offset=F.col("offset").cast("long"),
    )
    rows = rows.persist()  # the topic is read once, for the check and the write
    try:
        if rows.isEmpty():  # a re-run: no commit at all
            return Ingested(domain.SOURCE_KAFKA, 0, 0)
        return Ingested(domain.SOURCE_KAFKA, 0, _append(spark, rows, bronze))
    finally:
        rows.unpersist()


def read_kafka(spark: SparkSession, bronze: str, topic: str, options: dict[str, str]) -> DataFrame:
    """The topic's records after the offsets bronze already holds (a batch read: the
    Kafka source jars must be on the cluster's class path; `options` carries
    kafka.bootstrap.servers and the SASL/TLS settings). Untested until the lab has
    Kafka; Spark wants every partition named in specific offsets, so a partition added
    to the topic later needs its entry (-2 = earliest) here."""
    import json

    starting = "earliest"
    done = _ingested(spark, bronze, domain.SOURCE_KAFKA)
    if done is not None:
        last = (
            done.filter(F.col("_kafka_topic") == topic)
            .groupBy("_kafka_partition")
            .agg(F.max("_kafka_offset").alias("last"))
            .collect()
        )
        if last:
            starting = json.dumps({topic: {str(r[0]): r[1] + 1 for r in last}})
    reader = spark.read.format("kafka").option("subscribe", topic)
    reader = reader.option("startingOffsets", starting).option("endingOffsets", "latest")
    return reader.options(**options).load()


def ingest(spark: SparkSession, landing: str, bronze: str, batch_id: str) -> list[Ingested]:
    """The landing files (JSON lines, CSV) not yet in bronze, appended in one commit; the
    rows per source are counted while they are written (an observation, no recount)."""
    seen = _seen_files(spark, bronze)
    new = {
        source: [
            f for f in list_files(spark, landing, suffix) if (source, _file_name(f)) not in seen
        ]
        for source, (_, suffix) in FORMATS.items()
    }
    frames = [_read_files(spark, files, source, batch_id) for source, files in new.items() if files]
    if not frames:
        return [Ingested(source, 0, 0) for source in FORMATS]
    counted = Observation("bronze-rows-per-source")
    rows = functools.reduce(DataFrame.unionByName, frames).observe(
        counted, *(F.count_if(F.col("_source") == s).alias(s) for s in FORMATS)
    )
    rows.write.format("delta").mode("append").save(bronze)
    return [Ingested(s, len(new[s]), int(counted.get[s])) for s in FORMATS]
