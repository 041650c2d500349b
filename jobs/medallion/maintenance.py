"""Table maintenance: OPTIMIZE (compaction) and VACUUM with a retention guard. A VACUUM
that keeps less than 7 days of history can delete files a running reader or a time
travel still needs, so it is refused unless forced."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

MIN_RETENTION_HOURS = 168
_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"


class RetentionTooShort(ValueError):
    pass


@dataclass(frozen=True)
class Maintained:
    uri: str
    files_added: int
    files_removed: int


def check_retention(retention_hours: float, force: bool, what: str = "VACUUM") -> None:
    if retention_hours < MIN_RETENTION_HOURS and not force:
        raise RetentionTooShort(
            f"{what} with {retention_hours} h would break readers and time travel older "
            f"than that; keep >= {MIN_RETENTION_HOURS} h or pass force=True"
        )


def optimize(spark: SparkSession, uri: str, zorder_by: tuple[str, ...] = ()) -> tuple[int, int]:
    """Compact small files; returns (files added, files removed)."""
    from delta.tables import DeltaTable

    builder = DeltaTable.forPath(spark, uri).optimize()
    metrics = builder.executeZOrderBy(*zorder_by) if zorder_by else builder.executeCompaction()
    row = metrics.select("metrics.numFilesAdded", "metrics.numFilesRemoved").first()
    return int(row[0]), int(row[1])


def vacuum(
    spark: SparkSession, uri: str, retention_hours: float = MIN_RETENTION_HOURS, force: bool = False
) -> None:
    """Delete files no version within `retention_hours` needs. Below 168 h only with
    `force` (and then Delta's own check is lifted for this call only)."""
    from delta.tables import DeltaTable

    check_retention(retention_hours, force, f"VACUUM {uri}")
    table = DeltaTable.forPath(spark, uri)
    if retention_hours >= MIN_RETENTION_HOURS:
        table.vacuum(retention_hours)
        return
    before = spark.conf.get(_CHECK, "true")
    spark.conf.set(_CHECK, "false")
    try:
        table.vacuum(retention_hours)
    finally:
        spark.conf.set(_CHECK, before)


def maintain(
    spark: SparkSession,
    uris: list[str],
    retention_hours: float = MIN_RETENTION_HOURS,
    force: bool = False,
) -> list[Maintained]:
    """OPTIMIZE then VACUUM each table (the guard is checked before any work)."""
    check_retention(retention_hours, force)
    done = []
    for uri in uris:
        added, removed = optimize(spark, uri)
        vacuum(spark, uri, retention_hours, force)
        done.append(Maintained(uri, added, removed))
    return done
