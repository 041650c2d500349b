"""Training logs params, metrics and a model to MLflow and registers a version (a local
SQLite store here, the platform's tracking server in the lab)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

pytest.importorskip("mlflow", reason="make test-jobs (jobs/README.md)")
import pandas as pd  # noqa: E402
from medallion import domain, train  # noqa: E402


def gold_rows() -> pd.DataFrame:
    rows = []
    for d in range(14):
        day = date(2026, 11, 1) + timedelta(days=d)
        for c, category in enumerate(domain.CATEGORIES):
            for r, region in enumerate(domain.REGIONS):
                value = 100 + 10 * c + 5 * r + 20 * (day.weekday() >= 5)
                rows.append((day, category, region, 3, 6, value))
    return pd.DataFrame(rows, columns=[*domain.GOLD_KEY, "orders", "units", "value"])


def test_training_logs_and_registers_a_model(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)  # artifacts of a local store go under the working dir
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    first = train.train(train.frame(gold_rows()), uri, model_name="orders-test")
    second = train.train(train.frame(gold_rows()), uri, model_name="orders-test", alpha=0.5)
    assert (first.version, second.version) == ("1", "2")
    assert first.metrics["r2"] > 0.9
    client = mlflow.MlflowClient(uri)
    run = client.get_run(second.run_id)
    assert run.data.params["alpha"] == "0.5"
    assert {"mae", "r2", "rows"} <= set(run.data.metrics)
    model = mlflow.pyfunc.load_model(f"models:/orders-test/{second.version}")
    sample = train.frame(gold_rows()).head(3)[list(train.FEATURES)]
    assert len(model.predict(sample)) == 3
