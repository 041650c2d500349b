"""The glue around the deployed jobs (datalab.jobs), without an environment: the release
archive, the report a flow run logs, and the checks made on it."""

import io
import json
import tarfile
from datetime import date

import pytest
from datalab import jobs


def test_the_release_archive_is_reproducible_and_holds_the_package():
    packed, release = jobs.archive()
    assert jobs.archive() == (packed, release)
    assert release.startswith("medallion-") and len(release) == len("medallion-") + 12
    with tarfile.open(fileobj=io.BytesIO(packed)) as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert {"medallion/__init__.py", "medallion/flows.py", "medallion/silver.py"} <= names
    assert all(m.mode == 0o644 and m.uid == 0 and m.mtime == 0 for m in members)


def test_the_report_is_the_last_report_line_of_the_logs():
    logs = [
        "bronze files: 4 files",
        jobs.REPORT + json.dumps({"bronze_rows": 1}),
        "silver Result(...)",
        jobs.REPORT + json.dumps({"bronze_rows": 2}),
        "Finished in state Completed()",
    ]
    assert jobs._report(logs) == {"bronze_rows": 2}
    assert jobs._report(["no report here"]) == {}


def test_the_report_line_is_the_one_the_flow_writes():
    flows = (jobs.JOBS_DIR / "medallion" / "flows.py").read_text()
    assert f'REPORT = "{jobs.REPORT}"' in flows
    assert f'TRAINED = "{jobs.TRAINED}"' in flows


@pytest.fixture(scope="module")
def batch(tmp_path_factory, monkeypatch_module):
    """A generated batch on disk (two chunks, a quarter of each for Kafka), and what the
    generator says it injected."""
    monkeypatch_module.setattr(jobs, "CHUNK", 400)
    landed = jobs.land(600, date(2026, 11, 20), "u1", tmp_path_factory.mktemp("landing"), 0.25)
    every = landed.files + landed.messages
    return every, landed, jobs._medallion().baseline.run(every)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_landing_in_chunks_adds_up_what_each_chunk_injected(batch):
    files, landed, outcome = batch
    assert landed.injected["rows"] == 600 and len(landed.files) == 8  # 2 chunks x 4 files
    messages = [line for path in landed.messages for line in path.read_text().splitlines()]
    assert len(landed.messages) == 2 and len(messages) == 100 + 50  # a quarter of each chunk
    assert landed.clean == outcome.silver
    assert landed.injected["duplicates"] == outcome.duplicates
    assert landed.bad == sum(outcome.quarantined.values())


def _report_from_baseline(outcome, injected):
    """The report a correct cluster run would log for this batch."""
    gold = [
        [str(d), c, r, o, u, f"{cents // 100}.{cents % 100:02d}"]
        for d, c, r, o, u, cents in outcome.gold.iter_rows()
    ]
    return {
        "bronze_rows": injected.injected["rows"],
        "silver_rows": outcome.silver,
        "quarantined": sum(outcome.quarantined.values()),
        "duplicates": outcome.duplicates,
        "gold": gold,
    }


def test_a_correct_run_passes_the_accounting_and_the_gold_comparison(batch):
    files, injected, outcome = batch
    report = _report_from_baseline(outcome, injected)
    assert jobs._accounting(report, injected) == []
    assert jobs._gold_differences(report, files) == []


def test_a_lost_row_or_a_wrong_sum_is_named(batch):
    files, injected, outcome = batch
    report = _report_from_baseline(outcome, injected)
    lost = {**report, "silver_rows": report["silver_rows"] - 1}
    assert jobs._accounting(lost, injected) == [
        f"silver_rows {report['silver_rows'] - 1} != {injected.clean} injected"
    ]
    wrong = json.loads(json.dumps(report))
    wrong["gold"][0][5] = "0.01"
    (problem,) = jobs._gold_differences(wrong, files)
    assert problem.startswith("gold differs from the baseline")
