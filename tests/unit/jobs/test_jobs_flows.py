"""The Prefect flows: retries on every task, named flows, and a real run of the medallion
flow (Prefect's temporary local server, a local Spark session) that survives a failure."""

from __future__ import annotations

from datetime import date

import pytest

pytest.importorskip("pyspark", reason="make test-jobs (jobs/README.md)")
pytest.importorskip("prefect", reason="make test-jobs (jobs/README.md)")
from medallion import flows, generate, lake  # noqa: E402


def test_every_task_retries_and_flows_are_named():
    for t in (flows.bronze_task, flows.silver_task, flows.gold_task, flows.upload_task):
        assert t.retries == flows.RETRIES >= 1
    flow_objects = (flows.medallion, flows.generate_orders, flows.training, flows.lake_maintenance)
    assert {f.name for f in flow_objects} == {
        "medallion",
        "generate-orders",
        "train-orders-model",
        "lake-maintenance",
    }


def test_cluster_session_refuses_local_mode(spark):
    with pytest.raises(RuntimeError, match="not the cluster"):
        lake.cluster_session("x")
    spark.range(1).count()  # the refusal leaves the tests' session usable


def test_the_medallion_flow_retries_a_failed_step_under_prefect(spark, tmp_path, monkeypatch):
    """A real flow run (Prefect's temporary local server): bronze fails once, its retry
    succeeds, silver and gold follow."""
    from prefect.testing.utilities import prefect_test_harness

    monkeypatch.setattr(flows, "session", lambda app: spark)
    monkeypatch.setattr(flows, "bronze_task", flows.bronze_task.with_options(retry_delay_seconds=0))
    calls = []
    ingest = flows.bronze.ingest

    def flaky(*args):
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionError("object store unreachable (injected)")
        return ingest(*args)

    monkeypatch.setattr(flows.bronze, "ingest", flaky)
    records, injected = generate.generate(300, date(2026, 11, 23), "p1")
    generate.write_landing(records, tmp_path / "landing" / "orders", "p1", files=2)
    with prefect_test_harness(server_startup_timeout=300):
        result = flows.medallion("p1", lake_root=str(tmp_path))
    assert len(calls) == 2
    assert result.balanced() and result.silver_rows == injected.clean
