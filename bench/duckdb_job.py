"""The benchmark jobs as a DuckDB user writes them: one query, straight from the file.

usage: duckdb_job.py TRANSACTIONS AS_OF JOB OUT.csv [--explain PLAN.txt]

JOB is `abc_rfm` (ABC 80/15/5 on 12 rolling months, RFM quintiles on 24
months) or `abc_rfm_rules` (the same plus three rules groups over every line
up to AS_OF). Writes `segment_type,customer_id,segment` rows to OUT.csv, with
Strata's rules: a customer's tier is decided by the sales of customers with
strictly greater sales (`before`), equal values share a score, orders are
netted and only orders with a positive net count for recency and frequency.
With --explain, runs the query under EXPLAIN ANALYZE and writes the plan too.
"""
import sys

import duckdb

# Lines are first reduced to orders (one scan of the file), orders to
# customers; every classification then reads the customers relation.
ABC_RFM = """
WITH orders AS (
  SELECT customer_id, order_id,
         sum(amount) FILTER (date > DATE '{as_of}' - INTERVAL 12 MONTH) AS sales_12m,
         sum(amount) AS net_24m,
         max(date) AS day_24m
  FROM {source}
  WHERE date > DATE '{as_of}' - INTERVAL 24 MONTH AND date <= DATE '{as_of}'
  GROUP BY customer_id, order_id
),
customers AS (
  SELECT customer_id,
         sum(sales_12m) AS sales,
         count(*) FILTER (net_24m > 0) AS frequency,
         DATE '{as_of}' - max(day_24m) FILTER (net_24m > 0) AS recency
  FROM orders GROUP BY customer_id
),
{classify}
SELECT * FROM abc UNION ALL SELECT * FROM rfm
"""

ABC_RFM_RULES = """
WITH orders AS (
  SELECT customer_id, order_id,
         sum(amount) FILTER (date > DATE '{as_of}' - INTERVAL 12 MONTH) AS sales_12m,
         sum(amount) FILTER (date > DATE '{as_of}' - INTERVAL 24 MONTH) AS net_24m,
         max(date) FILTER (date > DATE '{as_of}' - INTERVAL 24 MONTH) AS day_24m,
         sum(amount) AS net,
         max(date) AS day,
         bool_or(amount > 0 AND lower(brand) IN ('bosch', 'valeo')) AS bosch_valeo
  FROM {source}
  WHERE date <= DATE '{as_of}'
  GROUP BY customer_id, order_id
),
customers AS (
  SELECT customer_id,
         sum(sales_12m) AS sales,
         count(*) FILTER (net_24m > 0) AS frequency,
         DATE '{as_of}' - max(day_24m) FILTER (net_24m > 0) AS recency,
         sum(net) AS total_spent,
         DATE '{as_of}' - max(day) FILTER (net > 0) AS last_order_days,
         count(*) FILTER (net > 0 AND day > DATE '{as_of}' - 365) AS orders_365d,
         bool_or(bosch_valeo) AS bosch_valeo
  FROM orders GROUP BY customer_id
),
{classify},
rules AS (
  SELECT 'Rules', customer_id, 'active_big' FROM customers WHERE last_order_days < 90 AND total_spent > 500
  UNION ALL SELECT 'Rules', customer_id, 'dormant' FROM customers WHERE orders_365d = 0
  UNION ALL SELECT 'Rules', customer_id, 'bosch_valeo' FROM customers WHERE bosch_valeo
)
SELECT * FROM abc UNION ALL SELECT * FROM rfm UNION ALL SELECT * FROM rules
"""

# ABC: `before` summed over distinct sales values, so that ties share a tier.
# RFM: score = min(5, 1 + 5 * (customers with a strictly worse value) / n).
CLASSIFY = """
tiers AS (
  SELECT sales,
         coalesce(sum(sales * n) OVER (ORDER BY sales DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
         sum(sales * n) OVER () AS total
  FROM (SELECT sales, count(*) AS n FROM customers WHERE sales > 0 GROUP BY sales)
),
abc AS (
  SELECT 'ABC' AS segment_type, customer_id,
         CASE WHEN before * 100 < total * 80 THEN 'A' WHEN before * 100 < total * 95 THEN 'B' ELSE 'C' END AS segment
  FROM customers JOIN tiers USING (sales)
),
scores AS (
  SELECT customer_id,
         least(5, 1 + 5 * (rank() OVER (ORDER BY recency DESC) - 1) // count(*) OVER ()) AS r,
         least(5, 1 + 5 * (rank() OVER (ORDER BY frequency) - 1) // count(*) OVER ()) AS f
  FROM customers WHERE frequency > 0
),
rfm AS (
  SELECT 'RFM', customer_id,
    CASE
      WHEN r <= 2 THEN CASE WHEN f <= 2 THEN 'hibernating' WHEN f <= 4 THEN 'at_risk' ELSE 'cant_lose' END
      WHEN r = 3 THEN CASE WHEN f <= 2 THEN 'about_to_sleep' WHEN f = 3 THEN 'need_attention' ELSE 'loyal' END
      WHEN r = 4 THEN CASE WHEN f = 1 THEN 'promising' WHEN f <= 3 THEN 'potential_loyalist' ELSE 'loyal' END
      ELSE CASE WHEN f = 1 THEN 'new_customers' WHEN f <= 3 THEN 'potential_loyalist' ELSE 'champions' END
    END
  FROM scores
)"""


def source(path):
    """The file as a relation: Parquet as written, CSV with its column types stated."""
    if path.endswith(".parquet"):
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, types = {{'amount': 'DECIMAL(18,2)', 'date': 'DATE'}})"


def query(path, as_of, job):
    """The job's query."""
    template = {"abc_rfm": ABC_RFM, "abc_rfm_rules": ABC_RFM_RULES}[job]
    return template.format(source=source(path), as_of=as_of, classify=CLASSIFY.strip())


def main(argv):
    path, as_of, job, out = argv[:4]
    sql = query(path, as_of, job)
    con = duckdb.connect()
    con.execute(f"COPY ({sql}) TO '{out}' (HEADER)")
    if argv[4:5] == ["--explain"]:
        plan = con.execute(f"EXPLAIN ANALYZE COPY ({sql}) TO '{out}' (HEADER)").fetchall()
        with open(argv[5], "w", encoding="utf-8") as f:
            f.write(f"-- {job} on {path}, as of {as_of}, DuckDB {duckdb.__version__}\n")
            f.write(sql.strip() + "\n\n")
            for row in plan:
                f.write(row[-1] + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
