"""Small helpers over Delta tables shared by the layers."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession


def exists(spark: SparkSession, uri: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, uri)


def read(spark: SparkSession, uri: str) -> DataFrame:
    return spark.read.format("delta").load(uri)


def rows_written(spark: SparkSession, uri: str) -> int:
    """Rows the table's last commit wrote (from its metrics: no recount)."""
    from delta.tables import DeltaTable

    last = DeltaTable.forPath(spark, uri).history(1).collect()[0]
    return int(last["operationMetrics"].get("numOutputRows", 0))
