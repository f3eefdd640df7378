"""The benchmark job written as an analyst would with Polars' lazy API.

usage: polars_job.py TRANSACTIONS AS_OF OUT.csv

The same job and tie rules as duckdb_job.py. Amounts are read as
Decimal(18, 4) so that tier boundaries are exact.
"""
import sys
from datetime import date

import polars as pl

path, as_of_text, out = sys.argv[1], sys.argv[2], sys.argv[3]
as_of = date.fromisoformat(as_of_text)
columns = ["customer_id", "order_id", "date", "amount", "brand"]
if path.endswith(".parquet"):
    raw = pl.scan_parquet(path).select(columns)
else:
    raw = pl.scan_csv(path, schema_overrides={"customer_id": pl.Utf8, "order_id": pl.Utf8, "date": pl.Date, "amount": pl.Utf8}).select(columns)
raw = raw.with_columns(
    pl.col("customer_id").cast(pl.Utf8),
    pl.col("order_id").cast(pl.Utf8),
    pl.col("date").cast(pl.Date),
    pl.col("amount").cast(pl.Decimal(18, 4)),
)
lines = raw.filter(pl.col("date") <= as_of)
as_of_lit = pl.lit(as_of)


def months_back(n):
    return as_of_lit.dt.offset_by(f"-{n}mo")


# ABC on 12 rolling months: before = sales of customers with strictly greater sales.
sales = (
    lines.filter(pl.col("date") > months_back(12))
    .group_by("customer_id")
    .agg(pl.col("amount").sum().alias("sales"))
    .filter(pl.col("sales") > 0)
)
ties = sales.group_by("sales").agg(pl.len().alias("n")).sort("sales", descending=True)
ties = ties.with_columns(
    ((pl.col("sales") * pl.col("n").cast(pl.Decimal(18, 0))).cum_sum() - pl.col("sales") * pl.col("n").cast(pl.Decimal(18, 0))).alias("before")
)
total = sales.select(pl.col("sales").sum().alias("total"))
abc = (
    sales.join(ties.select("sales", "before"), on="sales")
    .join(total, how="cross")
    .select(
        pl.lit("ABC").alias("segment_type"),
        "customer_id",
        pl.when(pl.col("before") * 100 < pl.col("total") * 80)
        .then(pl.lit("A"))
        .when(pl.col("before") * 100 < pl.col("total") * 95)
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
        .alias("segment"),
    )
)

# RFM quintiles on 24 months.
window = lines.filter(pl.col("date") > months_back(24))
orders = window.group_by("customer_id", "order_id").agg(pl.col("amount").sum().alias("net"), pl.col("date").max().alias("od"))
positive = orders.filter(pl.col("net") > 0)
base = (
    positive.group_by("customer_id")
    .agg((as_of_lit - pl.col("od").max()).dt.total_days().alias("recency"), pl.len().alias("frequency"))
)
n = pl.len()
scored = base.with_columns(
    pl.min_horizontal(pl.lit(5), 1 + (5 * (pl.col("recency").rank("min", descending=True) - 1)) // n).alias("r"),
    pl.min_horizontal(pl.lit(5), 1 + (5 * (pl.col("frequency").rank("min") - 1)) // n).alias("f"),
)
r, f = pl.col("r"), pl.col("f")
name = (
    pl.when((r <= 2) & (f <= 2)).then(pl.lit("hibernating"))
    .when((r <= 2) & (f <= 4)).then(pl.lit("at_risk"))
    .when(r <= 2).then(pl.lit("cant_lose"))
    .when((r == 3) & (f <= 2)).then(pl.lit("about_to_sleep"))
    .when((r == 3) & (f == 3)).then(pl.lit("need_attention"))
    .when(r == 3).then(pl.lit("loyal"))
    .when((r == 4) & (f == 1)).then(pl.lit("promising"))
    .when((r == 4) & (f <= 3)).then(pl.lit("potential_loyalist"))
    .when(r == 4).then(pl.lit("loyal"))
    .when(f == 1).then(pl.lit("new_customers"))
    .when(f <= 3).then(pl.lit("potential_loyalist"))
    .otherwise(pl.lit("champions"))
)
rfm = scored.select(pl.lit("RFM").alias("segment_type"), "customer_id", name.alias("segment"))

# Rules over every line up to as_of.
customers = raw.select("customer_id").unique()
all_orders = lines.group_by("customer_id", "order_id").agg(pl.col("amount").sum().alias("net"), pl.col("date").max().alias("od"))
order_features = (
    all_orders.filter(pl.col("net") > 0)
    .group_by("customer_id")
    .agg(
        (as_of_lit - pl.col("od").max()).dt.total_days().alias("last_order_days"),
        ((as_of_lit - pl.col("od")).dt.total_days() < 365).sum().alias("orders_365d"),
    )
)
spent = lines.group_by("customer_id").agg(pl.col("amount").sum().alias("total_spent"))
brands = (
    lines.filter((pl.col("amount") > 0) & pl.col("brand").str.to_lowercase().is_in(["bosch", "valeo"]))
    .select("customer_id")
    .unique()
    .with_columns(pl.lit(True).alias("bosch_valeo"))
)
features = (
    customers.join(spent, on="customer_id", how="left")
    .join(order_features, on="customer_id", how="left")
    .join(brands, on="customer_id", how="left")
    .with_columns(pl.col("orders_365d").fill_null(0), pl.col("bosch_valeo").fill_null(False))
)
rules = pl.concat(
    [
        features.filter((pl.col("last_order_days") < 90) & (pl.col("total_spent") > 500)).select(
            pl.lit("Rules").alias("segment_type"), "customer_id", pl.lit("active_big").alias("segment")
        ),
        features.filter(pl.col("orders_365d") == 0).select(pl.lit("Rules").alias("segment_type"), "customer_id", pl.lit("dormant").alias("segment")),
        features.filter(pl.col("bosch_valeo")).select(pl.lit("Rules").alias("segment_type"), "customer_id", pl.lit("bosch_valeo").alias("segment")),
    ]
)
result = pl.concat([abc, rfm, rules]).sort("segment_type", "customer_id", "segment")
result.collect().write_csv(out)
