"""The generator (no Spark): deterministic, bad records at the rates asked for, files
in both formats, Kafka messages through any send callable."""

from __future__ import annotations

import csv
import json
from datetime import date

from medallion import domain, generate

DAY = date(2026, 11, 20)


def test_same_seed_same_records_other_seed_other_records():
    a, _ = generate.generate(500, DAY, "b1", seed=1)
    b, _ = generate.generate(500, DAY, "b1", seed=1)
    c, _ = generate.generate(500, DAY, "b1", seed=2)
    assert a == b
    assert a != c


def test_injected_counts_add_up_to_n():
    records, injected = generate.generate(1000, DAY, "b1")
    assert len(records) == injected.rows == 1000
    assert injected.clean + injected.duplicates + injected.bad == 1000
    assert (injected.missing_key, injected.wrong_type, injected.negative) == (10, 10, 10)
    assert injected.duplicates == 20
    ids = [r.get("order_id") for r in records]
    assert len(ids) - len(set(ids)) == injected.duplicates
    late = [r for r in records if not str(r.get("event_time", "")).startswith(DAY.isoformat())]
    assert injected.late > 0 and injected.late_days and DAY not in injected.late_days
    assert len(late) >= injected.late  # late originals, their copies, spoiled times


def test_landing_files_alternate_json_lines_and_csv(tmp_path):
    records, _ = generate.generate(101, DAY, "b1")
    files = generate.write_landing(records, tmp_path, "b1", files=3)
    assert [f.suffix for f in files] == [".jsonl", ".csv", ".jsonl"]
    rows = []
    for f in files:
        if f.suffix == ".csv":
            with f.open() as handle:
                rows += list(csv.DictReader(handle))
        else:
            rows += [json.loads(line) for line in f.read_text().splitlines()]
    assert len(rows) == 101
    assert {r["order_id"] for r in rows if r.get("order_id")} == {
        r["order_id"] for r in records if "order_id" in r
    }


def test_publish_sends_json_keyed_by_order_id():
    records, _ = generate.generate(50, DAY, "k1")
    sent = []
    assert generate.publish(records, lambda *m: sent.append(m), topic="orders") == 50
    topic, key, value = sent[0]
    assert topic == "orders"
    assert json.loads(value) == records[0]
    assert key == str(records[0].get(domain.ORDER_KEY, "")).encode()


def test_upload_puts_each_file_under_the_prefix(tmp_path):
    records, _ = generate.generate(20, DAY, "u1")
    files = generate.write_landing(records, tmp_path, "u1", files=2)
    puts = []

    class S3:
        def upload_file(self, path, bucket, key):
            puts.append((path, bucket, key))

    keys = generate.upload(files, S3(), "landing", "/orders/")
    assert keys == [f"orders/{f.name}" for f in files]
    assert puts == [(str(f), "landing", k) for f, k in zip(files, keys, strict=True)]
