"""The medallion run's figures for Prometheus (medallion.metrics): valid text exposition
of the report, written atomically where DATALAB_JOB_METRICS_DIR says, nothing without it."""

from __future__ import annotations

import stat

from medallion import metrics

REPORT = {
    "batch_id": "b1",
    "dataset": "orders",
    "bronze_rows": 1000,
    "silver_rows": 990,
    "quarantined": 7,
    "duplicates": 3,
    "seconds": {"bronze": 4.5, "silver": 2.25, "gold": 1.0},
    "days": ["2026-12-01", "2026-12-02"],
}


def test_the_report_becomes_one_gauge_per_figure():
    text = metrics.render(REPORT, now=1765000000)
    assert "1234567.25" in metrics.render(dict(REPORT, seconds={"bronze": 1234567.25}))
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert samples == {
        'datalab_medallion_rows{dataset="orders",layer="bronze"}': "1000",
        'datalab_medallion_rows{dataset="orders",layer="silver"}': "990",
        'datalab_medallion_gold_days{dataset="orders"}': "2",
        'datalab_medallion_quarantined_rows{dataset="orders"}': "7",
        'datalab_medallion_duplicate_rows{dataset="orders"}': "3",
        'datalab_medallion_duration_seconds{dataset="orders",layer="bronze"}': "4.5",
        'datalab_medallion_duration_seconds{dataset="orders",layer="gold"}': "1",
        'datalab_medallion_duration_seconds{dataset="orders",layer="silver"}': "2.25",
        'datalab_medallion_last_run_timestamp_seconds{dataset="orders"}': "1765000000",
    }
    # Bronze, silver and quarantine balance as the report does.
    assert 990 + 7 + 3 == 1000
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert names == {s.split("{")[0] for s in samples}


def test_written_atomically_where_the_variable_says(tmp_path, monkeypatch):
    monkeypatch.delenv(metrics.ENV, raising=False)
    assert metrics.write(REPORT) is None
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv(metrics.ENV, str(tmp_path))
    target = metrics.write(dict(REPORT, dataset="orders/eu"))
    assert target == tmp_path / "medallion_orders_eu.prom"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no partial left
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert 'dataset="orders/eu"' in target.read_text()
