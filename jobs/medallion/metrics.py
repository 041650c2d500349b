"""The figures of a medallion run for Prometheus: one text file per dataset, in the
directory named by DATALAB_JOB_METRICS_DIR (on the platform: node_exporter's textfile
collector reads it; ansible/playbooks/group_vars/all/jobs.yml). Written atomically
(a temporary file renamed over the old one), so a scrape never sees half a file. Without
the variable (local runs, tests) nothing is written."""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV = "DATALAB_JOB_METRICS_DIR"

_HELP = {
    "datalab_medallion_rows": "Rows the last run of the dataset brought to bronze and to silver.",
    "datalab_medallion_gold_days": "Days of gold the last run recomputed.",
    "datalab_medallion_quarantined_rows": "Malformed rows the last run quarantined.",
    "datalab_medallion_duplicate_rows": "Rows of the last run already in silver.",
    "datalab_medallion_duration_seconds": "Seconds each layer took in the last run.",
    "datalab_medallion_last_run_timestamp_seconds": "When the last run ended (Unix time).",
}


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(number: float) -> str:
    # Exact: counts stay whole, times keep their digits (never %g's six).
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def render(report: dict, now: float | None = None) -> str:
    """The text exposition of a run's report (flows.medallion's REPORT dict)."""
    ds = f'dataset="{_label(report["dataset"])}"'
    samples = {
        "datalab_medallion_rows": [
            (f'{ds},layer="bronze"', report["bronze_rows"]),
            (f'{ds},layer="silver"', report["silver_rows"]),
        ],
        "datalab_medallion_gold_days": [(ds, len(report.get("days", [])))],
        "datalab_medallion_quarantined_rows": [(ds, report["quarantined"])],
        "datalab_medallion_duplicate_rows": [(ds, report["duplicates"])],
        "datalab_medallion_duration_seconds": [
            (f'{ds},layer="{_label(layer)}"', seconds)
            for layer, seconds in sorted(report["seconds"].items())
        ],
        "datalab_medallion_last_run_timestamp_seconds": [(ds, time.time() if now is None else now)],
    }
    lines = []
    for name, values in samples.items():
        lines += [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge"]
        lines += [f"{name}{{{labels}}} {_value(value)}" for labels, value in values]
    return "\n".join(lines) + "\n"


def write(report: dict, directory: str | None = None) -> Path | None:
    """Leave the run's figures where the collector reads them; None without a directory."""
    directory = directory or os.environ.get(ENV)
    if not directory:
        return None
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in report["dataset"])
    target = Path(directory) / f"medallion_{name}.prom"
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    partial.write_text(render(report))
    partial.chmod(0o644)
    partial.replace(target)
    return target
