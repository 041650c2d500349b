#!/usr/bin/env python3
"""Medallion figures (printed, not asserted): wall time per layer and rows/s end to end
for N generated rows, and the same transformations single-process (polars) on the same
input in the same run, as a ratio. Targets (issue 6): 10M rows <= 3 min; Spark within
2x of the baseline.

Usage:
    # on an environment (operator venv; after `datalab deploy`): the deployed flow on the
    # Spark cluster, landing files uploaded to s3://landing/bench-*/, tables dropped after
    python tests/bench/medallion.py --env dev --rows 1000000 [--rows 10000000]
    # local mode on this machine (jobs environment, see jobs/README.md), tables under --root
    python tests/bench/medallion.py --rows 1000000 [--cores 2]
The baseline runs here, on the same landing files, in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "jobs"))

DAY = date(2026, 11, 20)
CHUNK = 500_000  # rows generated (and held in memory) at a time


def land(rows: int, directory: Path, batch: str) -> list[Path]:
    from medallion import generate

    files = []
    for part, start in enumerate(range(0, rows, CHUNK)):
        records, _ = generate.generate(min(CHUNK, rows - start), DAY, f"{batch}p{part:03d}")
        files += generate.write_landing(records, directory, f"{batch}p{part:03d}", files=2)
    return files


def timed(what: str, action, table: list) -> object:
    start = time.monotonic()
    result = action()
    table.append((what, time.monotonic() - start))
    return result


def bench(rows: int, root: Path, cores: int) -> None:
    from medallion import baseline, bronze, gold, lake, silver

    layout = lake.Lake.under(root)
    batch = "bench"
    figures: list[tuple[str, float]] = []
    files = timed(
        "generate (not in the totals)", lambda: land(rows, Path(layout.landing), batch), figures
    )
    spark = lake.local_session("medallion-bench", cores=cores, memory="6g")
    try:
        timed("bronze", lambda: bronze.ingest(spark, layout.landing, layout.bronze, batch), figures)
        result = timed(
            "silver",
            lambda: silver.run(spark, layout.bronze, layout.silver, layout.quarantine, batch),
            figures,
        )
        timed(
            "gold",
            lambda: gold.rebuild(
                spark, layout.silver, layout.gold, silver.days_of_batch(spark, layout.silver, batch)
            ),
            figures,
        )
    finally:
        spark.stop()
    timed("baseline (polars, same input)", lambda: baseline.run(files), figures)
    spark_s = sum(s for w, s in figures if w in ("bronze", "silver", "gold"))
    base_s = figures[-1][1]
    print(f"\n{rows:,} rows, local[{cores}]: {result}")
    for what, seconds in figures:
        print(f"  {what:36s} {seconds:8.1f} s")
    print(f"  {'spark end to end':36s} {spark_s:8.1f} s  {rows / spark_s:12,.0f} rows/s")
    print(f"  {'ratio spark / baseline':36s} {spark_s / base_s:8.2f}  (target <= 2)")


def bench_env(env: str, rows: int) -> None:
    """The deployed medallion on `env`'s cluster, and the baseline on the same files."""
    import secrets

    from datalab import jobs
    from medallion import baseline

    base: dict[str, float] = {}

    def time_baseline(files):
        start = time.monotonic()
        outcome = baseline.run(files)
        base["s"] = time.monotonic() - start
        base["silver"] = outcome.silver

    run = jobs.run_medallion(
        env,
        rows,
        dataset=f"bench-{secrets.token_hex(4)}",
        drop_after=True,
        timeout_s=3600,
        progress=lambda m: print(f"  {m}", flush=True),
        with_files=time_baseline,
    )
    layers = {k.strip(): v for k, v in run.seconds.items() if k.startswith("  ")}
    spark_s = sum(layers.values())
    print(f"\n{rows:,} rows on {env} ({run.flow_run}: {run.state}) {run.problems or 'exact'}")
    for what, seconds in run.seconds.items():
        print(f"  {what:36s} {seconds:8.1f} s")
    print(f"  {'spark layers end to end':36s} {spark_s:8.1f} s  {rows / spark_s:12,.0f} rows/s")
    flow = run.seconds["flow run"]
    print(f"  {'flow run (queue, driver, layers)':36s} {flow:8.1f} s  {rows / flow:12,.0f} rows/s")
    print(f"  {'baseline (polars, one process, here)':36s} {base['s']:8.1f} s")
    print(f"  {'ratio spark layers / baseline':36s} {spark_s / base['s']:8.2f}  (target <= 2)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows per run (repeatable)")
    parser.add_argument("--env", help="run on this environment's cluster (after datalab deploy)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--root", type=Path, help="where the tables go (default: a temp dir)")
    args = parser.parse_args()
    for rows in args.rows or [1_000_000]:
        if args.env:
            bench_env(args.env, rows)
            continue
        root = args.root or Path(tempfile.mkdtemp(prefix="medallion-bench-"))
        try:
            bench(rows, root, args.cores)
        finally:
            if not args.root:
                shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
