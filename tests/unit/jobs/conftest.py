"""The jobs' unit tests: `medallion` importable, and a local-mode Spark session with
Delta. Modules that need pyspark, polars, MLflow or Prefect skip without them: they run
in the jobs environment (`make test-jobs`, see jobs/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

JOBS = Path(__file__).resolve().parents[3] / "jobs"
if str(JOBS) not in sys.path:
    sys.path.insert(0, str(JOBS))


@pytest.fixture(scope="session")
def spark():
    from medallion import lake

    session = lake.local_session("datalab-jobs-tests")
    yield session
    session.stop()
