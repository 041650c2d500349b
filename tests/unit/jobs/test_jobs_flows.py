"""The Prefect flows: retries on every task, and the flow's steps run the jobs (their
bodies called directly with a local session: no Prefect server needed)."""

from __future__ import annotations

from datetime import date

import pytest

pytest.importorskip("pyspark", reason="make test-jobs (jobs/README.md)")
pytest.importorskip("prefect", reason="make test-jobs (jobs/README.md)")
from medallion import flows, generate, lake  # noqa: E402


def test_every_task_retries_and_flows_are_named():
    for t in (flows.bronze_task, flows.silver_task, flows.gold_task):
        assert t.retries == flows.RETRIES >= 1
    names = {f.name for f in (flows.medallion, flows.training, flows.lake_maintenance)}
    assert names == {"medallion", "train-orders-model", "lake-maintenance"}


def test_cluster_session_refuses_local_mode(spark):
    with pytest.raises(RuntimeError, match="not the cluster"):
        lake.cluster_session("x")
    spark.range(1).count()  # the refusal leaves the tests' session usable


def test_task_bodies_run_a_batch(spark, tmp_path, monkeypatch):
    monkeypatch.setattr(flows, "session", lambda app: spark)
    monkeypatch.setattr(flows, "get_run_logger", lambda: __import__("logging").getLogger("t"))
    layout = lake.Lake.under(tmp_path)
    records, injected = generate.generate(400, date(2026, 11, 22), "f1")
    generate.write_landing(records, tmp_path / "landing" / "orders", "f1", files=2)
    assert flows.bronze_task.fn(layout, "f1") == 400
    result = flows.silver_task.fn(layout, "f1")
    assert result.balanced() and result.silver_rows == injected.clean
    assert flows.gold_task.fn(layout, "f1") > 0
