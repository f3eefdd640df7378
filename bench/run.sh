#!/usr/bin/env bash
# The segmentation benchmark: Strata against DuckDB and Polars on the same job
# (bench/config.toml, duckdb_job.py, polars_job.py), from CSV and Parquet.
#
#   bench/run.sh [LINES]       (default 1000000; 10000000 and 50000000 take many minutes)
#
# Builds Strata in release mode, generates a history of about LINES lines
# (about 17 lines per customer), installs DuckDB and Polars from PyPI into
# bench/.venv, checks that the three tools agree customer by customer, then
# prints the median wall time of 3 runs after a warm-up, the peak memory, the
# ratios, and the floor: Strata reading and decoding the file without
# aggregating (`strata check`).
set -euo pipefail
cd "$(dirname "$0")/.."

lines="${1:-1000000}"
customers=$((lines / 17))
as_of=2024-12-31
runs=3
data="bench/data/$lines"
venv=bench/.venv

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q duckdb==2.0.0 polars==2.1.0
cargo build --release --quiet
strata=target/release/strata
mkdir -p "$data"
for format in csv parquet; do
    [ -f "$data/transactions.$format" ] ||
        "$strata" generate --customers "$customers" --seed 42 --end "$as_of" --format "$format" --out "$data" 2>/dev/null
done

# Runs a command $runs times after a warm-up; prints "median_seconds max_rss_mib".
measure() {
    "$@" >/dev/null 2>&1
    local results=()
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$data/time.txt" "$@" >/dev/null 2>&1
        results+=("$(cat "$data/time.txt")")
    done
    local median rss
    median=$(printf '%s\n' "${results[@]}" | cut -d' ' -f1 | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    rss=$(printf '%s\n' "${results[@]}" | cut -d' ' -f2 | sort -n | tail -1)
    echo "$median $(( rss / 1024 ))"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(wc -l < "$data/transactions.csv") lines (with header), $customers customers"
echo
echo "| lines | format | tool | wall time (median of $runs) | peak memory | Strata time / tool time |"
echo "|---|---|---|---|---|---|"
for format in csv parquet; do
    file="$data/transactions.$format"
    "$strata" segment --quiet --no-report --transactions "$file" --config bench/config.toml --as-of "$as_of" --out "$data/strata-$format"
    "$venv/bin/python" bench/duckdb_job.py "$file" "$as_of" "$data/duckdb-$format.csv"
    "$venv/bin/python" bench/polars_job.py "$file" "$as_of" "$data/polars-$format.csv"
    "$venv/bin/python" bench/agree.py "$data/strata-$format/assignments.csv" "$data/duckdb-$format.csv" "$data/polars-$format.csv" >&2

    read -r s_time s_rss < <(measure "$strata" segment --quiet --no-report --transactions "$file" --config bench/config.toml --as-of "$as_of" --out "$data/strata-$format")
    read -r d_time d_rss < <(measure "$venv/bin/python" bench/duckdb_job.py "$file" "$as_of" "$data/duckdb-$format.csv")
    read -r p_time p_rss < <(measure "$venv/bin/python" bench/polars_job.py "$file" "$as_of" "$data/polars-$format.csv")
    read -r f_time f_rss < <(measure "$strata" check --config bench/config.toml --transactions "$file")
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    echo "| $lines | $format | strata | $s_time s | $s_rss MiB | 1.00 |"
    echo "| $lines | $format | duckdb | $d_time s | $d_rss MiB | $(ratio "$s_time" "$d_time") |"
    echo "| $lines | $format | polars | $p_time s | $p_rss MiB | $(ratio "$s_time" "$p_time") |"
    echo "| $lines | $format | floor: strata check (decode only) | $f_time s | $f_rss MiB | $(ratio "$s_time" "$f_time") |"
done
