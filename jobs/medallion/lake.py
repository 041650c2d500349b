"""Where the tables live, and the Spark sessions the jobs run in.

In the lab a job is a driver on a Spark host (`datalab-pyspark`): spark-defaults.conf
there carries the master (spark://, authenticated and encrypted), Delta and S3A, and the
tables are in the platform's buckets. Local mode is for unit tests only.
"""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# The Kafka source's options on a platform driver: a JSON file named by this variable
# (the spark role's driver.env; bootstrap servers, SASL_SSL + SCRAM credentials).
KAFKA_ENV = "DATALAB_KAFKA_SOURCE"

# The Delta and S3A jars of the `spark-jars` artifact, unpacked (see jobs/README.md).
JARS_ENV = "DATALAB_SPARK_JARS"
DEFAULT_JARS = Path.home() / ".cache/datalab/spark-jars/4.2.0-delta4.4.0-kafka3.9.2/jars"


@dataclass(frozen=True)
class Lake:
    """Table URIs of the medallion, one per layer (an s3a:// or a local path each)."""

    landing: str
    bronze: str
    silver: str
    quarantine: str
    gold: str

    @classmethod
    def buckets(cls, dataset: str = "orders") -> Lake:
        """The platform's buckets (ansible/roles/object_store: one bucket per layer)."""
        return cls(
            landing=f"s3a://landing/{dataset}",
            bronze=f"s3a://bronze/{dataset}",
            silver=f"s3a://silver/{dataset}",
            quarantine=f"s3a://quarantine/{dataset}",
            gold=f"s3a://gold/{dataset}_value_by_category_region_day",
        )

    @classmethod
    def under(cls, root: str | Path, dataset: str = "orders") -> Lake:
        """Every layer under one directory (tests, benchmarks)."""
        base = str(root).rstrip("/")
        layers = ("landing", "bronze", "silver", "quarantine")
        return cls(
            **{layer: f"{base}/{layer}/{dataset}" for layer in layers},
            gold=f"{base}/gold/{dataset}_value_by_category_region_day",
        )


def delta_jars(directory: str | Path | None = None) -> list[str]:
    """The delta-spark and delta-storage jars in `directory` (default: $DATALAB_SPARK_JARS,
    else the unpacked artifact in ~/.cache/datalab)."""
    where = Path(directory or os.environ.get(JARS_ENV) or DEFAULT_JARS)
    jars = sorted(glob.glob(str(where / "delta-spark_*.jar"))) + sorted(
        glob.glob(str(where / "delta-storage-*.jar"))
    )
    if len(jars) != 2:
        raise FileNotFoundError(
            f"no Delta jars in {where}: run `make jobs-venv` (unpacks the spark-jars "
            f"artifact) or set {JARS_ENV} to a directory holding them"
        )
    return jars


def local_session(
    app: str = "medallion-test",
    jars_dir: str | Path | None = None,
    cores: int = 2,
    memory: str = "1g",
):
    """A local-mode session with Delta, for unit tests: small shuffles, no UI, UTC."""
    from pyspark.sql import SparkSession

    jars = delta_jars(jars_dir)
    # Delta's Python module ships inside its jar (as on the cluster's drivers).
    if jars[0] not in sys.path:
        sys.path.append(jars[0])
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        .config("spark.jars", ",".join(jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.default.parallelism", str(cores))
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.memory", memory)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def cluster_session(app: str):
    """The session of a deployed job: the host's spark-defaults.conf says where and how.
    Refuses local mode, which exists only for unit tests."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.appName(app).config("spark.sql.session.timeZone", "UTC").getOrCreate()
    )
    master = spark.sparkContext.master
    if not master.startswith("spark://"):
        raise RuntimeError(
            f"master is {master!r}, not the cluster: run the job with `datalab-pyspark` "
            "on a Spark host (its spark-defaults.conf names spark://MASTER:7077)"
        )
    return spark


def kafka_options() -> dict[str, str]:
    """The Kafka source's options of this driver host (kept out of flow parameters, which
    the Prefect server stores and shows)."""
    import json

    where = os.environ.get(KAFKA_ENV)
    if not where:
        raise RuntimeError(f"${KAFKA_ENV} is not set: this host has no Kafka source (no Kafka?)")
    return json.loads(Path(where).read_text())
