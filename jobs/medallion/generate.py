"""Deterministic sample data: N order events for one batch, with bad records mixed in at
known rates, written as JSON lines and CSV files for the landing bucket and published as
Kafka messages. `generate` returns what it injected, so tests can check the accounting.

No Kafka client here: `publish` takes a `send(topic, key, value)` callable (a
kafka-python or confluent producer's method, or a list's append in tests).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from . import domain

Record = dict[str, object]
_PRICES = [cents for _, _, cents in domain.products()]


@dataclass(frozen=True)
class Rates:
    """Share of the N rows that are bad in each way (duplicates copy a clean row)."""

    missing_key: float = 0.01
    wrong_type: float = 0.01
    negative: float = 0.01
    duplicate: float = 0.02
    late: float = 0.03  # clean rows whose event is 1-3 days before the batch day


@dataclass
class Injected:
    """What a batch holds: `rows` = clean + duplicates + missing_key + wrong_type +
    negative. Late rows are clean rows (counted in `clean` too)."""

    rows: int = 0
    clean: int = 0
    duplicates: int = 0
    missing_key: int = 0
    wrong_type: int = 0
    negative: int = 0
    late: int = 0
    late_days: set[date] = field(default_factory=set)

    @property
    def bad(self) -> int:
        return self.missing_key + self.wrong_type + self.negative


def _clean(rng: random.Random, batch: str, i: int, day: date, late: bool) -> Record:
    product = rng.randrange(domain.PRODUCT_COUNT)
    price_cents = _PRICES[product]
    when = day - timedelta(days=rng.randint(1, 3)) if late else day
    moment = datetime.combine(when, time(), UTC) + timedelta(seconds=rng.randrange(86400))
    return {
        "order_id": f"o-{batch}-{i:09d}",
        "customer_id": domain.customer_id(rng.randrange(domain.CUSTOMER_COUNT)),
        "product_id": domain.product_id(product),
        "quantity": rng.randint(1, 5),
        "unit_price": round(price_cents / 100, 2),
        "event_time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _spoil(rng: random.Random, record: Record, how: str) -> Record:
    bad = dict(record)
    if how == "missing_key":
        del bad[rng.choice(domain.REQUIRED_FIELDS)]
    elif how == "wrong_type":
        name = rng.choice(("quantity", "unit_price", "event_time"))
        bad[name] = {"quantity": "three", "unit_price": "12,50", "event_time": "yesterday"}[name]
    else:  # negative
        name = rng.choice(("quantity", "unit_price"))
        bad[name] = -abs(bad[name])  # type: ignore[arg-type]
    return bad


def generate(
    n: int, day: date, batch: str, seed: int = 6, rates: Rates | None = None
) -> tuple[list[Record], Injected]:
    """N order events for `batch` (events on `day`, some late), in a seeded order."""
    rates = rates or Rates()
    rng = random.Random(f"{seed}/{batch}")  # noqa: S311 -- sample data, not secrets
    injected = Injected(rows=n)
    counts = {
        how: round(n * getattr(rates, how))
        for how in ("missing_key", "wrong_type", "negative", "duplicate")
    }
    originals = n - sum(counts.values())
    if originals <= 0:
        raise ValueError(f"rates leave no clean rows for n={n}: lower them")
    records: list[Record] = []
    for i in range(originals):
        late = rng.random() < rates.late
        record = _clean(rng, batch, i, day, late)
        if late:
            injected.late += 1
            injected.late_days.add(date.fromisoformat(str(record["event_time"])[:10]))
        records.append(record)
    injected.clean = originals
    next_id = originals  # bad rows get their own order ids: they never shadow a clean one
    for how in ("missing_key", "wrong_type", "negative"):
        for _ in range(counts[how]):
            records.append(_spoil(rng, _clean(rng, batch, next_id, day, late=False), how))
            next_id += 1
        setattr(injected, how, counts[how])
    clean = records[:originals]  # sliced once: a slice per duplicate made this quadratic
    records.extend(dict(rng.choice(clean)) for _ in range(counts["duplicate"]))
    injected.duplicates = counts["duplicate"]
    rng.shuffle(records)
    return records, injected


def _chunks(records: list[Record], parts: int) -> list[list[Record]]:
    size = -(-len(records) // parts) or 1
    return [records[i : i + size] for i in range(0, len(records), size)]


def write_landing(records: list[Record], directory: Path, batch: str, files: int = 4) -> list[Path]:
    """Split the records over `files` files, JSON lines and CSV alternately, named
    `orders-<batch>-<part>.<jsonl|csv>` (a name is never reused: bronze keys on it)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for part, chunk in enumerate(_chunks(records, files)):
        if part % 2 == 0:
            path = directory / f"orders-{batch}-{part:03d}.jsonl"
            with path.open("w") as out:
                out.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in chunk)
        else:
            path = directory / f"orders-{batch}-{part:03d}.csv"
            with path.open("w", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=domain.ORDER_FIELDS)
                writer.writeheader()
                writer.writerows(chunk)
        written.append(path)
    return written


def publish(
    records: Iterable[Record], send: Callable[[str, bytes, bytes], object], topic: str = "orders"
) -> int:
    """Send each record as a JSON message keyed by its order id (missing: empty key)."""
    sent = 0
    for record in records:
        key = str(record.get(domain.ORDER_KEY, "")).encode()
        send(topic, key, json.dumps(record, separators=(",", ":")).encode())
        sent += 1
    return sent


def upload(paths: Iterable[Path], s3, bucket: str, prefix: str) -> list[str]:
    """Put landing files into the object store with a boto3-like client (`upload_file`)."""
    keys = []
    for path in paths:
        key = f"{prefix.strip('/')}/{path.name}"
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys
