"""OPTIMIZE compacts; VACUUM refuses a retention under 168 h unless forced."""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark", reason="make test-jobs (jobs/README.md)")
from medallion import maintenance  # noqa: E402


def test_vacuum_below_a_week_is_refused_before_touching_anything():
    with pytest.raises(maintenance.RetentionTooShort, match="168"):
        maintenance.vacuum(None, "s3a://silver/orders", retention_hours=24)
    with pytest.raises(maintenance.RetentionTooShort):
        maintenance.maintain(None, ["s3a://silver/orders"], retention_hours=0)


def test_optimize_compacts_and_a_forced_vacuum_removes_old_files(spark, tmp_path):
    uri = str(tmp_path / "small")
    for i in range(2):
        spark.range(i * 10, i * 10 + 10).coalesce(1).write.format("delta").mode("append").save(uri)
    files = lambda: len(spark.read.format("delta").load(uri).inputFiles())  # noqa: E731
    assert files() == 2
    done = maintenance.maintain(spark, [uri], retention_hours=0, force=True)
    assert done[0].files_removed == 2 and done[0].files_added == 1
    assert files() == 1
    parquet = [p for p in (tmp_path / "small").glob("*.parquet")]
    assert len(parquet) == 1, "the compacted-away files are vacuumed"
    assert spark.read.format("delta").load(uri).count() == 20
    # The guard is back on for the next caller.
    assert spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled") == "true"
