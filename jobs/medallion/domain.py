"""The sample domain: orders placed by customers (in regions) for products (in
categories). Schemas, business keys, reference data and data quality rules, as data."""

from __future__ import annotations

from dataclasses import dataclass

# Raw order event, as it arrives (JSON lines, CSV, Kafka): every field is text in bronze,
# types are the silver layer's business.
ORDER_FIELDS = ("order_id", "customer_id", "product_id", "quantity", "unit_price", "event_time")
ORDER_KEY = "order_id"
REQUIRED_FIELDS = ("order_id", "customer_id", "product_id", "quantity", "unit_price", "event_time")

# Bronze ingestion metadata (prefixed with `_` so they never clash with a business field).
# A landing file is ingested once per (source, file name); a Kafka record once per
# (topic, partition, offset).
SOURCE_JSON = "landing_json"
SOURCE_CSV = "landing_csv"
SOURCE_KAFKA = "kafka"
BRONZE_META = (
    "_source",
    "_source_file",
    "_kafka_topic",
    "_kafka_partition",
    "_kafka_offset",
    "_ingest_time",
    "_batch_id",
)

REGIONS = ("north", "south", "east", "west", "central")
CATEGORIES = ("books", "games", "garden", "grocery", "kitchen", "music", "sports", "toys")
CUSTOMER_COUNT = 1000
PRODUCT_COUNT = 40


def customer_id(i: int) -> str:
    return f"c-{i:05d}"


def product_id(i: int) -> str:
    return f"p-{i:04d}"


def customers() -> list[tuple[str, str]]:
    """(customer_id, region)."""
    return [(customer_id(i), REGIONS[i % len(REGIONS)]) for i in range(CUSTOMER_COUNT)]


def products() -> list[tuple[str, str, int]]:
    """(product_id, category, list price in cents)."""
    return [
        (product_id(i), CATEGORIES[i % len(CATEGORIES)], 199 + (i * 737) % 9800)
        for i in range(PRODUCT_COUNT)
    ]


MAX_QUANTITY = 1000


@dataclass(frozen=True)
class Rule:
    """A data quality rule: `fails` is a SQL condition over the typed columns (and the
    raw text ones, suffixed `_raw`) that is true for a row breaking the rule. Rules are
    checked in order; a row is quarantined with the name of the first one it breaks."""

    name: str
    fails: str
    meaning: str


def _missing(field: str) -> Rule:
    return Rule(f"missing_{field}", f"{field}_raw IS NULL", f"no {field}")


def _not_a(field: str, kind: str) -> Rule:
    return Rule(
        f"{field}_not_{kind}",
        f"{field}_raw IS NOT NULL AND {field} IS NULL",
        f"{field} cannot be read as {kind}",
    )


RULES: tuple[Rule, ...] = (
    *(_missing(f) for f in REQUIRED_FIELDS),
    _not_a("quantity", "integer"),
    _not_a("unit_price", "decimal"),
    _not_a("event_time", "timestamp"),
    Rule("quantity_not_positive", "quantity <= 0", "an order is for one item or more"),
    # Also keeps quantity x price inside silver's DECIMAL(18,2) amount.
    Rule("quantity_implausible", f"quantity > {MAX_QUANTITY}", "more items than one order takes"),
    Rule("unit_price_negative", "unit_price < 0", "a price is never negative"),
    Rule("unknown_customer", "customer_region IS NULL", "customer not in the reference data"),
    Rule("unknown_product", "product_category IS NULL", "product not in the reference data"),
)

# Gold: value by category and region per day (the day of the event, UTC, not of ingestion).
GOLD_KEY = ("order_date", "category", "region")
