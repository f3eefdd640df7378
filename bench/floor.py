"""The physical floor: DuckDB reading only the columns the jobs need.

usage: floor.py TRANSACTIONS

Counts distinct customers and orders, the first date and the sum of amounts,
from the file as duckdb_job.py reads it; prints the one result row.
"""
import sys

import duckdb
from duckdb_job import source

print(duckdb.sql(f"""
SELECT count(DISTINCT customer_id), count(DISTINCT order_id), min(date), sum(amount)
FROM {source(sys.argv[1])}
""").fetchall())
