"""Training on gold: a small model of a day's order value per category and region (from
the weekday, category and region), logged to MLflow with its parameters and metrics and
registered as a new version of a named model. Uses only MLflow's client API, so the same
code logs to the platform's tracking server or to a local store in tests."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

FEATURES = ("weekday", "category", "region")
TARGET = "value"


@dataclass(frozen=True)
class Trained:
    run_id: str
    model_uri: str
    version: str
    metrics: dict[str, float]


def frame(gold: pd.DataFrame) -> pd.DataFrame:
    """Gold rows as a training frame: features + target."""
    out = pd.DataFrame(
        {
            "weekday": pd.to_datetime(gold["order_date"]).dt.dayofweek.astype("int64"),
            "category": gold["category"].astype(str),
            "region": gold["region"].astype(str),
            TARGET: gold["value"].astype(float),
        }
    )
    return out.sort_values(list(FEATURES)).reset_index(drop=True)


def _pipeline(alpha: float):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), list(FEATURES))])
    return Pipeline([("encode", encode), ("ridge", Ridge(alpha=alpha))])


def train(
    data: pd.DataFrame,
    tracking_uri: str,
    experiment: str = "medallion-orders",
    model_name: str = "orders-daily-value",
    alpha: float = 1.0,
    seed: int = 6,
) -> Trained:
    """Fit on a seeded 80 % split, evaluate on the rest, log and register."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.metrics import mean_absolute_error, r2_score

    if len(data) < 10:
        raise ValueError(f"{len(data)} training rows: run the medallion on more data first")
    test = data.sample(frac=0.2, random_state=seed)
    fit = data.drop(test.index)
    model = _pipeline(alpha).fit(fit[list(FEATURES)], fit[TARGET])
    predicted = model.predict(test[list(FEATURES)])
    metrics = {
        "mae": float(mean_absolute_error(test[TARGET], predicted)),
        "r2": float(r2_score(test[TARGET], predicted)),
        "rows": float(len(data)),
    }
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.log_params({"alpha": alpha, "seed": seed, "features": ",".join(FEATURES)})
        mlflow.log_metrics(metrics)
        sample = fit[list(FEATURES)].head(5)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=sample,
            signature=infer_signature(sample, model.predict(sample)),
            registered_model_name=model_name,
        )
    return Trained(run.info.run_id, info.model_uri, str(info.registered_model_version), metrics)


def gold_frame(spark, gold: str) -> pd.DataFrame:
    """The gold table (small: days x categories x regions) as pandas."""
    from . import tables

    return frame(tables.read(spark, gold).toPandas())
