#!/usr/bin/env bash
# The preview on stored data (POST /api/v1/preview), warm, against DuckDB:
# CUSTOMERS customers (default 1000000) of the classic shape imported into a
# SQLite server, the feature table built by a first preview, then each rule
# of bench/preview_peer.py previewed ROUNDS times (best time, as curl sees
# it). DuckDB counts the same rules on the Parquet file of the same lines,
# straight from the file and on a feature table it built beforehand; the
# counts must agree.
#
#   bench/preview.sh [CUSTOMERS] [ROUNDS]
#
# Data lives in bench/data/preview-CUSTOMERS (git-ignored); DuckDB in
# bench/.venv as bench/run.sh installs it.
set -euo pipefail
cd "$(dirname "$0")/.."

customers="${1:-1000000}"
rounds="${2:-5}"
as_of=2024-12-31
data="bench/data/preview-$customers"
port=18701
base="http://127.0.0.1:$port"
# STRATA names a strata binary to measure instead of building this checkout.
S="${STRATA:-target/release/strata}"
venv=bench/.venv

[ -n "${STRATA:-}" ] || cargo build --release --quiet
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q duckdb==2.0.0 polars==2.1.0 pyarrow==26.0.1
mkdir -p "$data"
if [ ! -f "$data/csv/transactions.csv" ]; then
    $S generate --customers "$customers" --seed 7 --end "$as_of" --out "$data/csv"
    $S generate --customers "$customers" --seed 7 --end "$as_of" --format parquet --out "$data/parquet"
fi
n_lines=$(($(wc -l < "$data/csv/transactions.csv") - 1))

rm -rf "$data/strata-data"
storage=(--data "$data/strata-data")
token=$($S token create --org bench --role admin "${storage[@]}" 2>/dev/null | tail -1)
$S serve "${storage[@]}" --listen "127.0.0.1:$port" 2>"$data/serve.log" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
auth="Authorization: Bearer $token"
# -T streams the file (--data-binary would read it whole into memory).
curl -sf -o /dev/null -H "$auth" -X POST -T "$data/csv/customers.csv" "$base/api/v1/imports/customers"
curl -sf -o /dev/null -H "$auth" -X POST -T "$data/csv/transactions.csv" "$base/api/v1/imports/transactions"

preview() {
    python3 -c 'import json,sys; print(json.dumps({"rule": sys.argv[1], "as_of": sys.argv[2]}))' "$1" "$as_of" \
        | curl -s -o "$data/preview.json" -w '%{http_code} %{time_total}' -H "$auth" \
            -H 'content-type: application/json' --data-binary @- "$base/api/v1/preview"
}
# The first preview after the import builds the feature table: 202 until it is ready.
started=$(date +%s.%N)
while [ "$(preview 'orders_365d = 0' | cut -d' ' -f1)" = 202 ]; do sleep 0.5; done
build=$(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')")

peer=$("$venv/bin/python" bench/preview_peer.py "$data/parquet/transactions.parquet" "$as_of" "$rounds")
echo "strata $(git rev-parse --short HEAD), DuckDB $("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)'); $customers customers, $n_lines lines; Strata's feature table built in $build s (first preview after the import)"
echo
echo "| rule | customers matching | Strata, warm (s) | DuckDB from Parquet (s) | DuckDB on its feature table (s) | DuckDB's feature table built in (s) |"
echo "|---|---|---|---|---|---|"
while read -r line; do
    rule=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rule"])' "$line")
    times=()
    for _ in $(seq "$rounds"); do
        out=$(preview "$rule")
        [ "${out%% *}" = 200 ] || { echo "preview of $rule: $out $(cat "$data/preview.json")" >&2; exit 1; }
        times+=("${out#* }")
    done
    python3 - "$line" "$data/preview.json" "${times[@]}" <<'PY'
import json, sys
peer = json.loads(sys.argv[1])
strata = json.load(open(sys.argv[2]))
if strata["matched"] != peer["count"]:
    sys.exit(f"{peer['rule']}: Strata counts {strata['matched']}, DuckDB {peer['count']}")
best = min(float(t) for t in sys.argv[3:])
print(f"| `{peer['rule']}` | {peer['count']:,} | {best:.3f} | {peer['cold_s']:.3f} | {peer['warm_s']:.3f} | {peer['build_s']:.1f} |")
PY
done <<< "$peer"
