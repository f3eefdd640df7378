#!/usr/bin/env bash
# The server's benchmarks, on SQLite and PostgreSQL:
#   - import throughput: the generated customers and transactions files,
#     sent as they are (POST /api/v1/imports/...);
#   - a run of ABC + RFM + rules (bench/abc_rfm_rules.toml) on the stored
#     lines, against `strata segment` on a Parquet file of the same lines;
#   - customer lookups (GET /api/v1/customers/{id}) under 64 concurrent
#     connections, as many as the server answers and then paced at 1,000
#     per second, with the explanations and without (?explain=false): wrk
#     pinned to core 1, the server to core 0 (it is not pinned during the
#     imports and the run).
#
#   bench/serve.sh [LINES]   (default 1000000; the issue's figure is 10000000)
#
# Needs wrk (Debian's package; installed if missing) and PostgreSQL at
# STRATA_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432),
# where it creates the database strata_bench afresh. Data lives in
# bench/data/serve-LINES (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

lines="${1:-1000000}"
customers=$((lines / 20))
as_of=2024-12-31
data="bench/data/serve-$lines"
server_url="${STRATA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}"
port=18700
base="http://127.0.0.1:$port"
S=target/release/strata

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
mkdir -p "$data"
if [ ! -f "$data/csv/transactions.csv" ]; then
    $S generate --shape skewed --customers "$customers" --seed 42 --end "$as_of" --out "$data/csv"
    $S generate --shape skewed --customers "$customers" --seed 42 --end "$as_of" --format parquet --out "$data/parquet"
fi
n_lines=$(($(wc -l < "$data/csv/transactions.csv") - 1))

seconds() { python3 -c 'import sys,time; print(f"{time.time():.3f}")'; }

started=$(seconds)
$S segment --transactions "$data/parquet/transactions.parquet" --customers "$data/parquet/customers.parquet" \
    --config bench/abc_rfm_rules.toml --as-of "$as_of" --out "$data/cli-out" --no-report --force 2>/dev/null
cli=$(python3 -c "print(f'{$(seconds) - $started:.1f}')")

echo "| backend | lines | import customers (s) | import lines (s) | lines/s | run (s) | strata segment on Parquet (s) | run / segment | lookups/s, most | p50 (ms) | p99 (ms) | lookups/s, paced | p50 (ms) | p99 (ms) | paced, ?explain=false | p50 (ms) | p99 (ms) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for backend in sqlite postgres; do
    case $backend in
        sqlite)
            rm -rf "$data/strata-data"
            storage=(--data "$data/strata-data") ;;
        postgres)
            psql -q "$server_url/postgres" -c "DROP DATABASE IF EXISTS strata_bench WITH (FORCE)" -c "CREATE DATABASE strata_bench"
            storage=(--database "$server_url/strata_bench") ;;
    esac
    token=$($S token create --org bench --role admin "${storage[@]}" 2>/dev/null | tail -1)
    # Imports and the run use every core, as `strata segment` does; the
    # server is pinned to core 0 for the lookups only.
    $S serve "${storage[@]}" --listen "127.0.0.1:$port" 2>"$data/serve-$backend.log" &
    server=$!
    trap 'kill $server 2>/dev/null' EXIT
    for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
    $S config apply bench/abc_rfm_rules.toml --server "$base" --token "$token" 2>/dev/null
    auth="Authorization: Bearer $token"
    import() {
        curl -sf -o /dev/null -w '%{time_total}' -H "$auth" --data-binary "@$2" "$base/api/v1/imports/$1"
    }
    t_customers=$(import customers "$data/csv/customers.csv")
    t_lines=$(import transactions "$data/csv/transactions.csv")
    run=$(curl -sf -H "$auth" -H 'content-type: application/json' \
        -d "{\"types\": [\"ABC\", \"RFM\", \"Rules\"], \"as_of\": \"$as_of\"}" "$base/api/v1/runs")
    id=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['id'])" "$run")
    while :; do
        state=$(curl -sf -H "$auth" "$base/api/v1/runs/$id")
        status=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['status'])" "$state")
        [ "$status" = queued ] || [ "$status" = running ] || break
        sleep 0.5
    done
    [ "$status" = succeeded ] || { echo "run $id: $state" >&2; exit 1; }
    run_s=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['duration_seconds'])" "$state")
    # As fast as the server answers, then at 1,000 requests per second.
    lookups() {
        taskset -c 1 env CUSTOMERS=$customers "$@" wrk -t1 -c64 -d15s --latency -s bench/lookup.lua -H "$auth" "$base"
    }
    stat() { echo "$1" | awk -v k="$2" '$1 == k {print $2}'; }
    taskset -a -p -c 0 $server >/dev/null
    full=$(lookups)
    paced=$(lookups RATE=1000)
    # The same without the explanations (which read the customer's lines
    # and run the engine's rules on them).
    bare=$(lookups RATE=1000 QUERY='?explain=false')
    kill $server; wait $server 2>/dev/null || true
    python3 - "$backend" "$n_lines" "$t_customers" "$t_lines" "$run_s" "$cli" \
        "$(stat "$full" Requests/sec:)" "$(stat "$full" 50%)" "$(stat "$full" 99%)" \
        "$(stat "$paced" Requests/sec:)" "$(stat "$paced" 50%)" "$(stat "$paced" 99%)" \
        "$(stat "$bare" Requests/sec:)" "$(stat "$bare" 50%)" "$(stat "$bare" 99%)" <<'PY'
import sys
b, n, tc, tl, run, cli, rps, p50, p99, rps2, q50, q99, rps3, r50, r99 = sys.argv[1:]
def ms(t):
    return float(t[:-2]) if t.endswith("ms") else float(t[:-2]) / 1000 if t.endswith("us") else float(t[:-1]) * 1000
print(f"| {b} | {int(n):,} | {float(tc):.1f} | {float(tl):.1f} | {int(n) / float(tl):,.0f} | {float(run):.1f} | {float(cli):.1f} | {float(run) / float(cli):.1f}x "
      f"| {float(rps):,.0f} | {ms(p50):.2f} | {ms(p99):.2f} | {float(rps2):,.0f} | {ms(q50):.2f} | {ms(q99):.2f} "
      f"| {float(rps3):,.0f} | {ms(r50):.2f} | {ms(r99):.2f} |")
PY
done
