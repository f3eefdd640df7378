#!/usr/bin/env bash
# The fair benchmark: Strata against DuckDB's and Polars' best on the same job,
# the same files and the same output, with a physical floor.
#
#   bench/run.sh [LINES] [ROUNDS]   (default 5000000 lines, 5 rounds; 10000000 and 50000000 take longer)
#
# Builds Strata in release mode; installs GNU time (for peak memory) if missing, DuckDB, Polars and pyarrow from PyPI
# into bench/.venv; generates a skewed history of about LINES lines
# (`strata generate --shape skewed`, LINES / 20 customers) as CSV and writes it
# again as Parquet the way DuckDB and pyarrow write it (convert.py); writes
# DuckDB's EXPLAIN ANALYZE of both jobs to bench/explain/; then measure.py
# checks that every tool's output agrees and times every command round after
# round. Data lives in bench/data/LINES (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

lines="${1:-5000000}"
rounds="${2:-5}"
customers=$((lines / 20))
as_of=2024-12-31
data="bench/data/$lines"
venv=bench/.venv

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q duckdb==2.0.0 polars==2.1.0 pyarrow==26.0.1
cargo build --release --quiet
mkdir -p "$data" bench/explain
if [ ! -f "$data/pyarrow.parquet" ]; then
    target/release/strata generate --shape skewed --customers "$customers" --seed 42 --end "$as_of" --out "$data"
    "$venv/bin/python" bench/convert.py "$data/transactions.csv" "$data/duckdb.parquet" "$data/pyarrow.parquet"
fi
for input in transactions.csv duckdb.parquet; do
    for job in abc_rfm abc_rfm_rules; do
        "$venv/bin/python" bench/duckdb_job.py "$data/$input" "$as_of" "$job" "$data/explain.csv" \
            --explain "bench/explain/$lines-${input%%.*}-$job.txt"
    done
done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "strata $(git rev-parse --short HEAD), DuckDB $("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)'), Polars $("$venv/bin/python" -c 'import polars; print(polars.__version__)'), Python $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])')"
echo "data: $(($(wc -l < "$data/transactions.csv") - 1)) lines; $(du -m "$data/transactions.csv" "$data/duckdb.parquet" "$data/pyarrow.parquet" | awk '{printf "%s %s MB; ", $2, $1}')"
echo
"$venv/bin/python" bench/measure.py "$data" "$as_of" "$rounds"
