"""The preview's peer: the rule counts as a DuckDB user gets them.

usage: preview_peer.py TRANSACTIONS.parquet AS_OF ROUNDS

Prints one JSON object per rule of `RULES` (bench/preview.sh sends the same
rules to Strata): the count, the best time of ROUNDS straight from the file
(`cold_s`: what an analyst runs ad hoc) and the best time on a per-customer
feature table built once beforehand (`warm_s`: the peer's equivalent of
Strata's warm cache; `build_s` is that build). Features follow Strata's
definitions as bench/duckdb_job.py does: orders are netted, only orders with
a positive net count.
"""
import json
import sys
import time

import duckdb

FEATURES = """
WITH orders AS (
  SELECT customer_id, order_id, sum(amount) AS net, max(date) AS day,
         bool_or(amount > 0 AND lower(brand) IN ('bosch', 'valeo')) AS bosch_valeo
  FROM read_parquet('{path}')
  WHERE date <= DATE '{as_of}'
  GROUP BY customer_id, order_id
)
SELECT customer_id,
       sum(net) AS total_spent,
       DATE '{as_of}' - max(day) FILTER (net > 0) AS last_order_days,
       count(*) FILTER (net > 0 AND day > DATE '{as_of}' - 365) AS orders_365d,
       bool_or(bosch_valeo) AS bosch_valeo
FROM orders GROUP BY customer_id
"""

# (name, Strata's rule, the same condition in SQL)
RULES = [
    ("active_big", "last_order_days < 90 AND total_spent > 500",
     "last_order_days < 90 AND total_spent > 500"),
    ("dormant", "orders_365d = 0", "orders_365d = 0"),
    ("bosch_valeo", "purchased_brand IN ('Bosch', 'Valeo')", "bosch_valeo"),
]


def best(rounds, f):
    """The fastest of `rounds` calls of f, and its result."""
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - started)
    return min(times), result


def main(argv):
    path, as_of, rounds = argv[0], argv[1], int(argv[2])
    features = FEATURES.format(path=path, as_of=as_of)
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(f"CREATE TABLE features AS {features}")
    build = time.perf_counter() - started
    for name, rule, sql in RULES:
        cold, n = best(rounds, lambda: con.execute(
            f"SELECT count(*) FROM ({features}) WHERE {sql}").fetchone()[0])
        warm, n_warm = best(rounds, lambda: con.execute(
            f"SELECT count(*) FROM features WHERE {sql}").fetchone()[0])
        assert n == n_warm, (name, n, n_warm)
        print(json.dumps({"name": name, "rule": rule, "count": n, "cold_s": cold,
                          "warm_s": warm, "build_s": build}))


if __name__ == "__main__":
    main(sys.argv[1:])
