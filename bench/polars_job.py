"""The benchmark jobs as a Polars user writes them: lazy, from the file.

usage: polars_job.py TRANSACTIONS AS_OF JOB OUT.csv [--engine in-memory|streaming]

JOB is `abc_rfm` or `abc_rfm_rules`: the same jobs and rules as
duckdb_job.py. Amounts are decimals (exact tier boundaries). The plan is one
lazy query: lines reduced to orders, orders to customers, then classified;
it is collected with the engine given (default: streaming).
"""
import sys
from datetime import date, timedelta

import polars as pl


def scan(path):
    """The file as a lazy frame: Parquet as written, CSV with its column types stated."""
    if path.endswith(".parquet"):
        return pl.scan_parquet(path)
    return pl.scan_csv(path, schema_overrides={"amount": pl.Decimal(18, 2), "date": pl.Date})


def months_before(day, months):
    """`day` minus `months` calendar months, clamped to the month's end."""
    return pl.select(pl.lit(day).dt.offset_by(f"-{months}mo")).item()


def classify(customers, as_of):
    """ABC on `sales` and RFM on `recency`/`frequency` of the customers frame."""
    ranked = customers.filter(pl.col("sales") > 0)
    # `before` is summed over distinct sales values, so that ties share a tier.
    tiers = (
        ranked.group_by("sales")
        .agg(pl.len().cast(pl.Decimal(18, 0)).alias("n"))
        .sort("sales", descending=True)
        .with_columns((pl.col("sales") * pl.col("n")).alias("tied"))
        .select("sales", (pl.col("tied").cum_sum() - pl.col("tied")).alias("before"), pl.col("tied").sum().alias("total"))
    )
    before, total = pl.col("before") * 100, pl.col("total")
    abc = ranked.join(tiers, on="sales").select(
        pl.lit("ABC").alias("segment_type"),
        "customer_id",
        pl.when(before < total * 80).then(pl.lit("A")).when(before < total * 95).then(pl.lit("B")).otherwise(pl.lit("C")).alias("segment"),
    )
    # Score = min(5, 1 + 5 * (customers with a strictly worse value) / n).
    n = pl.len()
    scored = customers.filter(pl.col("frequency") > 0).with_columns(
        pl.min_horizontal(5, 1 + (5 * (pl.col("recency").rank("min", descending=True) - 1)) // n).alias("r"),
        pl.min_horizontal(5, 1 + (5 * (pl.col("frequency").rank("min") - 1)) // n).alias("f"),
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
    return [abc, rfm]


def abc_rfm(lines, as_of):
    """ABC 80/15/5 on 12 rolling months, RFM quintiles on 24 months."""
    start_12m, start_24m = months_before(as_of, 12), months_before(as_of, 24)
    orders = (
        lines.filter(pl.col("date").is_between(start_24m, as_of, closed="right"))
        .group_by("customer_id", "order_id")
        .agg(
            pl.col("amount").filter(pl.col("date") > start_12m).sum().alias("sales_12m"),
            pl.col("amount").sum().alias("net_24m"),
            pl.col("date").max().alias("day_24m"),
        )
    )
    positive = pl.col("net_24m") > 0
    customers = orders.group_by("customer_id").agg(
        pl.col("sales_12m").sum().alias("sales"),
        positive.sum().alias("frequency"),
        (pl.lit(as_of) - pl.col("day_24m").filter(positive).max()).dt.total_days().alias("recency"),
    )
    return classify(customers, as_of)


def abc_rfm_rules(lines, as_of):
    """The same plus three rules groups over every line up to `as_of`.

    `brand` is cast to text: Parquet dictionaries arrive as categoricals.
    """
    start_12m, start_24m = months_before(as_of, 12), months_before(as_of, 24)
    in_24m = pl.col("date") > start_24m
    orders = (
        lines.filter(pl.col("date") <= as_of)
        .group_by("customer_id", "order_id")
        .agg(
            pl.col("amount").filter(pl.col("date") > start_12m).sum().alias("sales_12m"),
            pl.col("amount").filter(in_24m).sum().alias("net_24m"),
            pl.col("date").filter(in_24m).max().alias("day_24m"),
            pl.col("amount").sum().alias("net"),
            pl.col("date").max().alias("day"),
            ((pl.col("amount") > 0) & pl.col("brand").cast(pl.String).str.to_lowercase().is_in(["bosch", "valeo"])).any().alias("bosch_valeo"),
        )
    )
    positive_24m, positive = pl.col("net_24m") > 0, pl.col("net") > 0
    days_since = lambda day: (pl.lit(as_of) - day).dt.total_days()  # noqa: E731
    customers = orders.group_by("customer_id").agg(
        pl.col("sales_12m").sum().alias("sales"),
        positive_24m.sum().alias("frequency"),
        days_since(pl.col("day_24m").filter(positive_24m).max()).alias("recency"),
        pl.col("net").sum().alias("total_spent"),
        days_since(pl.col("day").filter(positive).max()).alias("last_order_days"),
        (positive & (pl.col("day") > as_of - timedelta(days=365))).sum().alias("orders_365d"),
        pl.col("bosch_valeo").any(),
    )
    group = lambda name, condition: customers.filter(condition).select(  # noqa: E731
        pl.lit("Rules").alias("segment_type"), "customer_id", pl.lit(name).alias("segment")
    )
    rules = [
        group("active_big", (pl.col("last_order_days") < 90) & (pl.col("total_spent") > 500)),
        group("dormant", pl.col("orders_365d") == 0),
        group("bosch_valeo", pl.col("bosch_valeo")),
    ]
    return classify(customers, as_of) + rules


def main(argv):
    path, as_of_text, job, out = argv[:4]
    engine = argv[5] if argv[4:5] == ["--engine"] else "streaming"
    as_of = date.fromisoformat(as_of_text)
    lines = scan(path).select("customer_id", "order_id", "date", "amount", *(["brand"] if job == "abc_rfm_rules" else []))
    parts = {"abc_rfm": abc_rfm, "abc_rfm_rules": abc_rfm_rules}[job](lines, as_of)
    pl.concat(parts).collect(engine=engine).write_csv(out)


if __name__ == "__main__":
    main(sys.argv[1:])
