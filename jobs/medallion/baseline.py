"""The medallion's transformations in one process with polars, on the same landing
files: the baseline the Spark jobs are measured against (tests/bench/medallion.py), and
an independent computation of gold for the unit tests. It shares only the domain (rules
as data, reference data) with the Spark code, not the code that applies them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from . import domain

PRICE_SCALE = 100  # prices are read as whole cents: exact sums


@dataclass(frozen=True)
class Outcome:
    rows: int
    silver: int
    quarantined: dict[str, int]  # rule name -> rows
    duplicates: int
    gold: pl.DataFrame  # order_date, category, region, orders, units, value_cents


def _json_lines(path: Path) -> pl.DataFrame:
    # Every field as its JSON text, whatever its JSON type (a number stays "3"), as
    # bronze keeps it: read lines whole, pick fields by JSON path.
    lines = pl.read_csv(
        path,
        has_header=False,
        new_columns=["line"],
        separator="\x1f",
        quote_char=None,
        schema_overrides={"line": pl.String},
    )
    return lines.select(
        pl.col("line").str.json_path_match(f"$.{f}").alias(f) for f in domain.ORDER_FIELDS
    )


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, schema={f: pl.String for f in domain.ORDER_FIELDS})


def read_landing(files: list[Path]) -> pl.DataFrame:
    frames = [_json_lines(f) if f.suffix == ".jsonl" else _csv(f) for f in files]
    return (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema=dict.fromkeys(domain.ORDER_FIELDS, pl.String))
    )


def _typed(raw: pl.DataFrame) -> pl.DataFrame:
    customers = pl.DataFrame(
        domain.customers(), schema=["customer_id", "customer_region"], orient="row"
    )
    products = pl.DataFrame(
        [(p, c) for p, c, _ in domain.products()],
        schema=["product_id", "product_category"],
        orient="row",
    )
    typed = raw.select(
        *(pl.col(f).alias(f"{f}_raw") for f in domain.ORDER_FIELDS),
        pl.col("order_id", "customer_id", "product_id"),
        pl.col("quantity").str.strip_chars().cast(pl.Int32, strict=False),
        (pl.col("unit_price").cast(pl.Float64, strict=False) * PRICE_SCALE)
        .round(0)
        .cast(pl.Int64)
        .alias("unit_price"),
        pl.col("event_time").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC", strict=False),
    )
    return typed.join(customers, on="customer_id", how="left").join(
        products, on="product_id", how="left"
    )


# The rules of domain.RULES, written for polars (a test checks every rule is here).
def _rules() -> dict[str, pl.Expr]:
    rules = {f"missing_{f}": pl.col(f"{f}_raw").is_null() for f in domain.REQUIRED_FIELDS}
    for field, kind in (
        ("quantity", "integer"),
        ("unit_price", "decimal"),
        ("event_time", "timestamp"),
    ):
        rules[f"{field}_not_{kind}"] = (
            pl.col(f"{field}_raw").is_not_null() & pl.col(field).is_null()
        )
    rules["quantity_not_positive"] = pl.col("quantity") <= 0
    rules["quantity_implausible"] = pl.col("quantity") > domain.MAX_QUANTITY
    rules["unit_price_negative"] = pl.col("unit_price") < 0
    rules["unknown_customer"] = pl.col("customer_region").is_null()
    rules["unknown_product"] = pl.col("product_category").is_null()
    return rules


RULES = _rules()


def run(files: list[Path]) -> Outcome:
    typed = _typed(read_landing(files))
    rule = pl.lit(None, dtype=pl.String)
    for r in reversed(domain.RULES):  # the first rule broken wins
        rule = pl.when(RULES[r.name].fill_null(False)).then(pl.lit(r.name)).otherwise(rule)
    checked = typed.with_columns(rule.alias("_rule"))
    bad = checked.filter(pl.col("_rule").is_not_null())
    good = checked.filter(pl.col("_rule").is_null())
    silver = good.sort("event_time", maintain_order=True).unique(
        "order_id", keep="first", maintain_order=True
    )
    gold = (
        silver.with_columns(
            pl.col("event_time").dt.date().alias("order_date"),
            pl.col("product_category").alias("category"),
            pl.col("customer_region").alias("region"),
            (pl.col("quantity").cast(pl.Int64) * pl.col("unit_price")).alias("amount_cents"),
        )
        .group_by(*domain.GOLD_KEY)
        .agg(
            pl.len().alias("orders"),
            pl.col("quantity").sum().cast(pl.Int64).alias("units"),
            pl.col("amount_cents").sum().alias("value_cents"),
        )
        .sort(*domain.GOLD_KEY)
    )
    counts = bad.group_by("_rule").len()
    return Outcome(
        rows=typed.height,
        silver=silver.height,
        quarantined=dict(zip(counts["_rule"].to_list(), counts["len"].to_list(), strict=True)),
        duplicates=good.height - silver.height,
        gold=gold,
    )
