#!/usr/bin/env bash
# Times `strata segment` (the example ABC + VAT ABC + RFM types) on a generated
# history, from CSV and from Parquet, and prints wall time and peak memory.
#
#   bench/segment.sh [CUSTOMERS]    (default 585000 customers, about 10 million lines)
#
# Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
customers="${1:-585000}"
data="bench/data/$customers"
runs=3

command -v /usr/bin/time >/dev/null || apt-get install -y time
cargo build --release --quiet
strata=target/release/strata
for format in csv parquet; do
    [ -f "$data/transactions.$format" ] || "$strata" generate --customers "$customers" --seed 42 --end 2024-12-31 --format "$format" --out "$data"
done

echo "| format | lines | wall time (median of $runs) | peak memory |"
echo "|---|---|---|---|"
for format in csv parquet; do
    lines=$(if [ "$format" = csv ]; then echo $(($(wc -l < "$data/transactions.csv") - 1)); else echo "-"; fi)
    times=()
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$data/time.txt" "$strata" segment --quiet \
            --transactions "$data/transactions.$format" --customers "$data/customers.$format" \
            --config examples/config.toml --as-of 2024-12-31 --out "$data/out-$format"
        times+=("$(cat "$data/time.txt")")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    echo "| $format | $lines | ${median% *} s | $(( ${median#* } / 1024 )) MiB |"
done
