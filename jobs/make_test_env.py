#!/usr/bin/env python3
"""Make the jobs' test environment (a venv of its own, default .venv-jobs) on any machine
that reaches the package registries, from the artifact store (`ansible/artifacts.yml`):

- pyspark 4.2.0 (PyPI has only a 450 MB sdist: the store builds the pinned wheel once)
  and py4j, installed without dependencies, as on the cluster's drivers;
- the spark-jars set (Delta 4.4.0 + S3A from Maven Central), unpacked into
  ~/.cache/datalab/spark-jars/<version>/jars (lake.DEFAULT_JARS): local sessions put the
  two Delta jars on `spark.jars` and import Delta's Python module from its jar;
- MLflow and Prefect offline from the services' hash-checked wheelhouses (the clients
  are then the servers' versions);
- polars and pytest from PyPI.

Run with the operator venv's python (it needs the `datalab` package):
    .venv/bin/python jobs/make_test_env.py [--venv .venv-jobs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
from pathlib import Path

from datalab import artifacts, paths

FROM_STORE = ("pyspark", "py4j", "spark-jars", "mlflow", "prefect")
FROM_PYPI = ("polars==2.1.0", "pytest>=8")


def jars_dir(version: str) -> Path:
    return paths.cache_dir() / "spark-jars" / version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(".venv-jobs"))
    parser.add_argument("--python", default="python3.11")
    args = parser.parse_args()
    venv, python = args.venv, args.python
    store = artifacts.store_dir()
    pinned = {a.name: a for a in artifacts.load_manifest() if a.name in FROM_STORE}
    for name in FROM_STORE:
        print(f"==> artifact {name}: {artifacts.ensure(pinned[name], store)}", flush=True)
    jars = pinned["spark-jars"]
    target = jars_dir(jars.version)
    if not (target / jars.check).exists():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(store / jars.file) as tar:
            tar.extractall(target, filter="data")
    print(f"==> Delta jars in {target / 'jars'}", flush=True)
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    wheels = [str(store / pinned[n].file) for n in ("pyspark", "py4j")]
    subprocess.run([*pip, "--no-deps", *wheels], check=True)
    houses = [f"--find-links={(store / pinned[n].file).parent}" for n in ("mlflow", "prefect")]
    services = [f"{n}=={pinned[n].version}" for n in ("mlflow", "prefect")]
    subprocess.run([*pip, "--no-index", *houses, *services], check=True)
    subprocess.run([*pip, *FROM_PYPI], check=True)
    print(f"==> {venv} ready: {venv}/bin/python -m pytest tests/unit/jobs", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
