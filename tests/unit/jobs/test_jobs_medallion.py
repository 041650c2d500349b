"""The medallion in local mode on Delta: two batches of generated orders (files and Kafka
messages, bad records and late events mixed in) through bronze, silver and gold.

Checked: nothing is lost (bronze = silver + quarantined + duplicates removed, each equal
to what the generator injected), re-running a batch adds nothing at any layer, gold
equals an independent polars computation on the same input, late events land in the
day they happened."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

pytest.importorskip("pyspark", reason="make test-jobs (jobs/README.md)")
pytest.importorskip("polars", reason="make test-jobs (jobs/README.md)")
from medallion import baseline, bronze, domain, generate, gold, lake, silver  # noqa: E402

DAYS = (date(2026, 11, 20), date(2026, 11, 21))
BATCHES = ("b20261120", "b20261121")
N = 1500  # rows of landing files per batch
N_KAFKA = 300  # and of Kafka messages


def kafka_frame(spark, records, topic="orders", offset=0):
    """What the Kafka source gives a batch read, for messages `publish` sent."""
    sent = []
    generate.publish(records, lambda t, k, v: sent.append((t, k, v)), topic=topic)
    rows = [(t, i % 2, offset + i // 2, k, v) for i, (t, k, v) in enumerate(sent)]
    return spark.createDataFrame(
        rows, "topic string, partition int, offset long, key binary, value binary"
    )


def count(spark, uri, where="true"):
    return spark.read.format("delta").load(uri).filter(where).count()


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    layout = lake.Lake.under(root)
    kafka_copy = root / "kafka-values"  # the messages as files, for the baseline
    kafka_copy.mkdir()
    injected, results, frames = {}, {}, {}
    for day, batch in zip(DAYS, BATCHES, strict=True):
        records, injected[batch] = generate.generate(N, day, batch)
        generate.write_landing(records, root / "landing" / "orders", batch, files=4)
        messages, injected[f"{batch}-kafka"] = generate.generate(N_KAFKA, day, f"{batch}k")
        frames[batch] = kafka_frame(spark, messages, offset=10_000 * len(frames))
        (kafka_copy / f"{batch}.jsonl").write_text("".join(json.dumps(m) + "\n" for m in messages))
        bronze.ingest(spark, layout.landing, layout.bronze, batch)
        bronze.ingest_kafka_frame(spark, frames[batch], layout.bronze, batch)
        results[batch] = silver.run(spark, layout.bronze, layout.silver, layout.quarantine, batch)
        gold.rebuild(
            spark, layout.silver, layout.gold, silver.days_of_batch(spark, layout.silver, batch)
        )
    files = sorted((root / "landing" / "orders").iterdir()) + sorted(kafka_copy.iterdir())
    return layout, injected, results, frames, files


def total(injected, field):
    return sum(getattr(i, field) for i in injected.values())


def test_nothing_is_lost(spark, run):
    layout, injected, results, _, _ = run
    rows = count(spark, layout.bronze)
    kept, quarantined = count(spark, layout.silver), count(spark, layout.quarantine)
    duplicates = sum(r.duplicates for r in results.values())
    assert rows == total(injected, "rows") == 2 * (N + N_KAFKA)
    assert rows == kept + quarantined + duplicates
    assert duplicates == total(injected, "duplicates")
    assert quarantined == total(injected, "bad")
    assert kept == total(injected, "clean")
    assert all(r.balanced() for r in results.values())


def test_quarantine_names_the_rule_broken(spark, run):
    layout, injected, _, _, _ = run
    table = spark.read.format("delta").load(layout.quarantine)
    by_rule = {r["_rule"]: r["count"] for r in table.groupBy("_rule").count().collect()}
    assert set(by_rule) <= {r.name for r in domain.RULES}
    assert sum(n for rule, n in by_rule.items() if rule.startswith("missing_")) == total(
        injected, "missing_key"
    )
    assert sum(
        n for rule, n in by_rule.items() if "_not_" in rule and rule != "quantity_not_positive"
    ) == total(injected, "wrong_type")
    negative = by_rule.get("quantity_not_positive", 0) + by_rule.get("unit_price_negative", 0)
    assert negative == total(injected, "negative")


def test_rerunning_a_batch_adds_nothing(spark, run):
    layout, _, results, frames, _ = run
    before = [
        count(spark, t) for t in (layout.bronze, layout.silver, layout.quarantine, layout.gold)
    ]
    gold_before = spark.read.format("delta").load(layout.gold).collect()
    batch = BATCHES[0]
    again = bronze.ingest(spark, layout.landing, layout.bronze, batch)
    assert [(i.files, i.rows) for i in again] == [(0, 0), (0, 0)]
    assert bronze.ingest_kafka_frame(spark, frames[batch], layout.bronze, batch).rows == 0
    assert (
        silver.run(spark, layout.bronze, layout.silver, layout.quarantine, batch) == results[batch]
    )
    gold.rebuild(
        spark, layout.silver, layout.gold, silver.days_of_batch(spark, layout.silver, batch)
    )
    after = [
        count(spark, t) for t in (layout.bronze, layout.silver, layout.quarantine, layout.gold)
    ]
    assert after == before
    assert sorted(spark.read.format("delta").load(layout.gold).collect()) == sorted(gold_before)


def test_bronze_appends_the_files_of_a_batch_in_one_commit(spark, tmp_path):
    """Both formats in one commit; the rows per source it reports are the table's."""
    from delta.tables import DeltaTable

    layout = lake.Lake.under(tmp_path)
    records, _ = generate.generate(400, DAYS[0], "one")
    generate.write_landing(records, tmp_path / "landing" / "orders", "one", files=4)
    done = bronze.ingest(spark, layout.landing, layout.bronze, "one")
    table = spark.read.format("delta").load(layout.bronze)
    assert {d.source: (d.files, d.rows) for d in done} == {
        r["_source"]: (2, r["count"]) for r in table.groupBy("_source").count().collect()
    }
    assert sum(d.rows for d in done) == 400
    assert DeltaTable.forPath(spark, layout.bronze).history().count() == 1


def test_bronze_keeps_ingestion_metadata(spark, run):
    layout, *_ = run
    table = spark.read.format("delta").load(layout.bronze)
    sources = {r["_source"]: r["count"] for r in table.groupBy("_source").count().collect()}
    assert sources[domain.SOURCE_KAFKA] == 2 * N_KAFKA
    assert sources[domain.SOURCE_JSON] + sources[domain.SOURCE_CSV] == 2 * N
    assert table.filter("_source != 'kafka' AND _source_file IS NULL").count() == 0
    assert table.filter("_source = 'kafka' AND _kafka_offset IS NULL").count() == 0
    assert table.filter("_ingest_time IS NULL OR _batch_id IS NULL").count() == 0


def test_gold_equals_an_independent_polars_computation(spark, run):
    layout, injected, _, _, files = run
    expected = baseline.run(files)
    assert expected.silver == total(injected, "clean")
    assert expected.duplicates == total(injected, "duplicates")
    got = sorted(
        (
            r["order_date"],
            r["category"],
            r["region"],
            r["orders"],
            r["units"],
            int(r["value"] * 100),
        )
        for r in spark.read.format("delta").load(layout.gold).collect()
    )
    want = sorted(tuple(row) for row in expected.gold.iter_rows())
    assert got == want
    assert all(
        isinstance(r["value"], Decimal)
        for r in spark.read.format("delta").load(layout.gold).take(1)
    )


def test_late_events_land_in_the_day_they_happened(spark, run):
    layout, injected, _, _, _ = run
    batch, day = BATCHES[1], DAYS[1]
    late = count(spark, layout.silver, f"_batch_id = '{batch}' AND order_date < DATE'{day}'")
    assert late == injected[batch].late + injected[f"{batch}-kafka"].late
    days = {
        r[0] for r in spark.read.format("delta").load(layout.gold).select("order_date").collect()
    }
    late_days = set().union(*(i.late_days for i in injected.values()))
    assert late_days <= days and all(d < DAYS[1] for d in late_days)
    assert max(days) == day


def test_the_baseline_applies_every_rule_of_the_domain():
    assert set(baseline.RULES) == {r.name for r in domain.RULES}
