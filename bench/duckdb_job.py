"""The benchmark job written as an analyst would in DuckDB SQL.

usage: duckdb_job.py TRANSACTIONS AS_OF OUT.csv

ABC 80/15/5 on 12 rolling months, RFM quintiles on 24 months and three rules
groups, with Strata's tie rules: a customer's tier is decided by the sales of
customers with strictly greater sales; quantile scores give ties one score.
"""
import sys

import duckdb

path, as_of, out = sys.argv[1], sys.argv[2], sys.argv[3]
source = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', header=true)"
con = duckdb.connect()
con.execute(f"""
CREATE TEMP TABLE raw AS
SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(order_id AS VARCHAR) AS order_id,
       CAST(date AS DATE) AS d, CAST(amount AS DECIMAL(18, 4)) AS amount, CAST(brand AS VARCHAR) AS brand
FROM {source};
CREATE TEMP TABLE lines AS SELECT * FROM raw WHERE d <= DATE '{as_of}';
CREATE TEMP TABLE customers AS SELECT DISTINCT customer_id FROM raw;
""")
con.execute(f"""
COPY (
WITH
-- ABC: before = sales of customers with strictly greater sales.
sales AS (
  SELECT customer_id, SUM(amount) AS sales FROM lines
  WHERE d > DATE '{as_of}' - INTERVAL 12 MONTH GROUP BY customer_id HAVING SUM(amount) > 0),
ranked AS (
  SELECT customer_id, sales,
         SUM(sales) OVER (ORDER BY sales DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           - sales * COUNT(*) OVER (PARTITION BY sales) AS before,
         SUM(sales) OVER () AS total
  FROM sales),
abc AS (
  SELECT 'ABC' AS segment_type, customer_id,
         CASE WHEN before * 100 < 80 * total THEN 'A' WHEN before * 100 < 95 * total THEN 'B' ELSE 'C' END AS segment
  FROM ranked),
-- RFM over 24 months: orders netted, returns count only in monetary.
win AS (SELECT * FROM lines WHERE d > DATE '{as_of}' - INTERVAL 24 MONTH),
orders AS (SELECT customer_id, order_id, SUM(amount) AS net, MAX(d) AS od FROM win GROUP BY customer_id, order_id),
rfm_base AS (
  SELECT o.customer_id,
         DATE '{as_of}' - MAX(od) FILTER (WHERE net > 0) AS recency,
         COUNT(*) FILTER (WHERE net > 0) AS frequency,
         m.monetary
  FROM orders o JOIN (SELECT customer_id, SUM(amount) AS monetary FROM win GROUP BY customer_id) m USING (customer_id)
  GROUP BY o.customer_id, m.monetary HAVING COUNT(*) FILTER (WHERE net > 0) > 0),
scored AS (
  SELECT customer_id,
         LEAST(5, 1 + (5 * (RANK() OVER (ORDER BY recency DESC) - 1)) // COUNT(*) OVER ()) AS r,
         LEAST(5, 1 + (5 * (RANK() OVER (ORDER BY frequency) - 1)) // COUNT(*) OVER ()) AS f
  FROM rfm_base),
rfm AS (
  SELECT 'RFM' AS segment_type, customer_id,
    CASE
      WHEN r <= 2 THEN CASE WHEN f <= 2 THEN 'hibernating' WHEN f <= 4 THEN 'at_risk' ELSE 'cant_lose' END
      WHEN r = 3 THEN CASE WHEN f <= 2 THEN 'about_to_sleep' WHEN f = 3 THEN 'need_attention' ELSE 'loyal' END
      WHEN r = 4 THEN CASE WHEN f = 1 THEN 'promising' WHEN f <= 3 THEN 'potential_loyalist' ELSE 'loyal' END
      ELSE CASE WHEN f = 1 THEN 'new_customers' WHEN f <= 3 THEN 'potential_loyalist' ELSE 'champions' END
    END AS segment
  FROM scored),
-- Rules: every line up to as_of.
all_orders AS (SELECT customer_id, order_id, SUM(amount) AS net, MAX(d) AS od FROM lines GROUP BY customer_id, order_id),
features AS (
  SELECT c.customer_id,
         COALESCE(t.total_spent, 0) AS total_spent,
         DATE '{as_of}' - o.last_order AS last_order_days,
         COALESCE(o.orders_365d, 0) AS orders_365d,
         COALESCE(b.bosch_valeo, false) AS bosch_valeo
  FROM customers c
  LEFT JOIN (SELECT customer_id, SUM(amount) AS total_spent FROM lines GROUP BY customer_id) t USING (customer_id)
  LEFT JOIN (SELECT customer_id, MAX(od) AS last_order,
                    COUNT(*) FILTER (WHERE DATE '{as_of}' - od < 365) AS orders_365d
             FROM all_orders WHERE net > 0 GROUP BY customer_id) o USING (customer_id)
  LEFT JOIN (SELECT customer_id, true AS bosch_valeo FROM lines
             WHERE amount > 0 AND lower(brand) IN ('bosch', 'valeo') GROUP BY customer_id) b USING (customer_id)),
rules AS (
  SELECT 'Rules' AS segment_type, customer_id, 'active_big' AS segment FROM features WHERE last_order_days < 90 AND total_spent > 500
  UNION ALL SELECT 'Rules', customer_id, 'dormant' FROM features WHERE orders_365d = 0
  UNION ALL SELECT 'Rules', customer_id, 'bosch_valeo' FROM features WHERE bosch_valeo)
SELECT * FROM abc UNION ALL SELECT * FROM rfm UNION ALL SELECT * FROM rules
ORDER BY segment_type, customer_id, segment
) TO '{out}' (HEADER, DELIMITER ',');
""")
