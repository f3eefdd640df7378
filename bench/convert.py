"""Writes the benchmark's two Parquet shapes from its CSV file.

usage: convert.py TRANSACTIONS.csv DUCKDB.parquet PYARROW.parquet

- DUCKDB.parquet as DuckDB's COPY writes it: DATE, DECIMAL(12,2) amounts,
  122,880-row groups, plain strings, Snappy.
- PYARROW.parquet as pyarrow writes a table read from CSV: DATE, DECIMAL(12,2)
  amounts, row groups of 1,048,576 rows, every text column an Arrow
  dictionary of the row group's values (kept in the file's Arrow schema), Snappy.
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
# Each row group gets dictionaries of its own values, as a writer fed batch
# by batch makes them: one dictionary for the whole table would be written
# whole into every row group (for order ids, a file larger than the CSV).
ROWS = 1024 * 1024
texts = [i for i, field in enumerate(table.schema) if pa.types.is_string(field.type)]
schema = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if i in texts else f
                    for i, f in enumerate(table.schema)])
with pq.ParquetWriter(pyarrow_path, schema, compression="snappy") as writer:
    for start in range(0, table.num_rows, ROWS):
        part = table.slice(start, ROWS).combine_chunks()
        columns = [pc.dictionary_encode(part.column(i)).combine_chunks() if i in texts else part.column(i)
                   for i in range(part.num_columns)]
        writer.write_table(pa.Table.from_arrays(columns, schema=schema), row_group_size=ROWS)
