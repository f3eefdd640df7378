"""Writes the benchmark's two Parquet shapes from its CSV file.

usage: convert.py TRANSACTIONS.csv DUCKDB.parquet PYARROW.parquet

- DUCKDB.parquet as DuckDB's COPY writes it: DATE, DECIMAL(12,2) amounts,
  122,880-row groups, plain strings, Snappy.
- PYARROW.parquet as pyarrow writes a table read from CSV: DATE, DECIMAL(12,2)
  amounts, row groups of 1,048,576 rows, every text column an Arrow
  dictionary (kept in the file's Arrow schema), Snappy.
"""
import sys

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq

csv_path, duckdb_path, pyarrow_path = sys.argv[1:4]

duckdb.connect().execute(f"""
COPY (
  SELECT order_id, customer_id, date, amount::DECIMAL(12,2) AS amount, margin::DECIMAL(12,2) AS margin,
         agency, brand, category, quantity, status, due_date
  FROM read_csv('{csv_path}', header = true,
                types = {{'order_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'date': 'DATE', 'amount': 'DECIMAL(12,2)',
                          'margin': 'DECIMAL(12,2)', 'quantity': 'INTEGER', 'due_date': 'DATE'}})
) TO '{duckdb_path}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)
""")

money = pa.decimal128(12, 2)
table = pv.read_csv(
    csv_path,
    convert_options=pv.ConvertOptions(
        column_types={
            "order_id": pa.string(), "customer_id": pa.string(), "date": pa.date32(), "amount": money,
            "margin": money, "agency": pa.string(), "brand": pa.string(), "category": pa.string(),
            "quantity": pa.int32(), "status": pa.string(), "due_date": pa.date32(),
        }
    ),
)
for i, field in enumerate(table.schema):
    if pa.types.is_string(field.type):
        table = table.set_column(i, field.name, pc.dictionary_encode(table.column(i)))
pq.write_table(table, pyarrow_path, row_group_size=1024 * 1024, compression="snappy")
