"""Gold: value by category and region per day (the day of the order event, UTC). Rebuilt
idempotently per day: the days a batch touched (late events included) are recomputed
from silver and replace their rows, so re-running gives the same table."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import domain, tables


def aggregate(silver_rows: DataFrame) -> DataFrame:
    return silver_rows.groupBy(*domain.GOLD_KEY).agg(
        F.count("*").alias("orders"),
        F.sum("quantity").cast("long").alias("units"),
        F.sum("amount").cast("decimal(18,2)").alias("value"),
    )


def rebuild(spark: SparkSession, silver: str, gold: str, days: list[date] | None = None) -> int:
    """Recompute `days` (every day when None or when gold does not exist yet); returns
    the number of gold rows written."""
    rows = tables.read(spark, silver)
    writer_days = days if days is not None and tables.exists(spark, gold) else None
    if writer_days is not None:
        if not writer_days:
            return 0
        rows = rows.filter(F.col("order_date").isin(writer_days))
    result = aggregate(rows)
    writer = result.write.format("delta").mode("overwrite")
    if writer_days is not None:
        listed = ", ".join(f"DATE'{d.isoformat()}'" for d in writer_days)
        writer = writer.option("replaceWhere", f"order_date IN ({listed})")
    writer.save(gold)
    return tables.rows_written(spark, gold)
