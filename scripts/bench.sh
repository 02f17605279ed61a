#!/usr/bin/env bash
# `make bench`: loads the synthetic data set, serves it from a release build, drives it with wrk
# from this machine's loopback, runs pgbench on the same core SQL, and prints one table of
# requests/s, p50, p99, the processor time a request took in the server and in PostgreSQL (its
# cost on this machine, steadier than its rate), the ratio to the framework's ceiling (/healthz) or
# to pgbench, and the server's peak memory. Results also go to bench/results.json.
#
# Sizes and duration: BENCH_PROCEDURES (20000), BENCH_DOSSIERS (1000000), BENCH_SQLITE_DOSSIERS
# (100000), BENCH_SMALL_DOSSIERS (100000, a second PostgreSQL set that shows what the statistics
# cost on a tenth of the data), BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_STATS_CONNECTIONS
# (4, the clients of the statistics rows). BENCH_FRESH=1 reloads the PostgreSQL sets.
# BENCH_ONLY (an extended regular expression) runs only the scenarios whose label matches, e.g.
# BENCH_ONLY='^pg (healthz|lookup)' or BENCH_ONLY=pgbench; the table then shows those alone.
#
# PostgreSQL: a private cluster of this machine's PostgreSQL binaries in BENCH_PGDATA
# (/var/tmp/dvc-bench-pg, kept between runs with its data) on BENCH_PGPORT (55432), with
# shared_buffers BENCH_SHARED_BUFFERS (4GB) so that the data set stays in the database's memory
# whatever the host does with its page cache; the server and pgbench both use it. Set
# BENCH_POSTGRES_URL to use another server instead.
set -euo pipefail
cd "$(dirname "$0")/.."

procedures=${BENCH_PROCEDURES:-20000}
dossiers=${BENCH_DOSSIERS:-1000000}
sqlite_dossiers=${BENCH_SQLITE_DOSSIERS:-100000}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-64}
stats_connections=${BENCH_STATS_CONNECTIONS:-4}
small_dossiers=${BENCH_SMALL_DOSSIERS:-100000}
pg_db=dvc_bench
pg_small_db=dvc_bench_small
threads=$(nproc)

for tool in wrk pgbench psql; do
  if ! command -v $tool >/dev/null 2>&1; then
    echo "installing $tool ..."
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
done
cargo build --release --bin dvc
dvc=target/release/dvc
work=$(mktemp -d)
server=""
pg_private=""
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  if [ -n "$pg_private" ]; then as_postgres "$pg_private/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  pg_admin=$BENCH_POSTGRES_URL
else
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  pg_data=${BENCH_PGDATA:-/var/tmp/dvc-bench-pg}
  pg_port=${BENCH_PGPORT:-55432}
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    mkdir -p "$pg_data"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pg_data"; fi
    as_postgres "$pg_bin/initdb" -D "$pg_data" -A trust -U postgres >/dev/null
  fi
  # A cluster left running (by an interrupted run) is stopped first, to start with these settings.
  as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
  as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/log" -w start -o "-p $pg_port \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_data -c max_connections=300 \
    -c shared_buffers=${BENCH_SHARED_BUFFERS:-4GB}" >/dev/null
  pg_private=$pg_bin
  pg_admin=postgres://postgres@127.0.0.1:$pg_port
fi
mkdir -p bench
results=$work/results.tsv
: >"$results"
: >"$work/rss.tsv"

psql_db() { psql -X -q -t -A "$pg_admin/$1" -c "$2"; }
selected() { [[ -z ${BENCH_ONLY:-} || $1 =~ $BENCH_ONLY ]]; }
wanted() { # prefix: whether any scenario of this database is selected
  local n
  for n in healthz "procedure detail" "procedure search" "procedure suggest" "lookup by code" me/dossiers "officer inbox" create+submit \
    "me/dossiers, uncached" "officer inbox, uncached" "statistics year" "statistics agency year" \
    "lookup by code, 64 statistics clients" "all-agency inbox, deep page"; do
    selected "$1 $n" && return 0
  done
  return 1
}

# ---- data ----
load_pg() { # database dossiers
  local db=$1 n=$2 loaded
  loaded=$(psql_db postgres "SELECT 1 FROM pg_database WHERE datname = '$db'" || true)
  # A set loaded by an earlier version (fewer dossiers, no administrator, no rollups) is loaded again.
  if [ "${BENCH_FRESH:-0}" = 1 ] || [ "$loaded" != 1 ] ||
    [ "$(psql_db "$db" "SELECT count(*) FROM dossiers" 2>/dev/null || echo 0)" -lt "$n" ] ||
    [ "$(psql_db "$db" "SELECT count(*) FROM accounts WHERE username = 'syn.admin'" 2>/dev/null || echo 0)" != 1 ] ||
    [ "$(psql_db "$db" "SELECT count(*) FROM dossier_days" 2>/dev/null || echo 0)" = 0 ]; then
    psql_db postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    psql_db postgres "CREATE DATABASE $db"
    echo "loading $procedures procedures and $n dossiers into PostgreSQL ($db) ..."
    /usr/bin/time -f "%e s" env DVC_DATABASE_URL="$pg_admin/$db" RUST_LOG=warn \
      $dvc seed --synthetic --procedures "$procedures" --dossiers "$n"
  fi
  # The whole set in the database's memory, as in steady service.
  psql_db "$db" "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
  psql_db "$db" "SELECT sum(pg_prewarm(c.oid::regclass)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')" >/dev/null
}
load_pg $pg_db "$dossiers"
if wanted pg100k; then load_pg $pg_small_db "$small_dossiers"; fi
if wanted sqlite; then
  echo "loading $sqlite_dossiers dossiers into SQLite ..."
  DVC_DATABASE_URL="sqlite://$work/bench.sqlite3" RUST_LOG=warn \
    $dvc seed --synthetic --procedures 2000 --dossiers "$sqlite_dossiers" | tail -1
fi

# ---- one run of wrk: name, path or script, target ----
run_wrk() { # label url lua [env...]
  local label=$1 url=$2 lua=$3
  shift 3
  selected "$label" || return 0
  local out=$work/wrk-${label//[^a-z0-9]/_}.txt
  # A short warm-up first: caches fill and connections open as they would in service.
  local c=${conns:-$connections}
  local t=$threads
  if [ "$c" -lt "$t" ]; then t=$c; fi
  env "$@" wrk -t"$t" -c"$c" -d2s -s "$lua" "$url" >/dev/null 2>&1 || true
  local server_before db_before
  server_before=$(server_ticks)
  db_before=$(db_ticks)
  env "$@" wrk -t"$t" -c"$c" -d"${seconds}s" --latency -s "$lua" "$url" >"$out" 2>&1 || true
  # The processor time the run took, of the server and of the database: a row's cost on this
  # machine, steadier from run to run than its rate (which also moves with wrk's own share).
  local server_ticks_run="" db_ticks_run=""
  if [ "${cost:-1}" = 1 ]; then
    server_ticks_run=$(($(server_ticks) - server_before))
    if [ -n "$db_before" ]; then db_ticks_run=$(($(db_ticks) - db_before)); fi
  fi
  python3 - "$out" "$label" "$server_ticks_run" "$db_ticks_run" "$clock_ticks" >>"$results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v.strip())
    if not m:
        return ""
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
total = re.search(r"(\d+) requests in", text)
n = int(total.group(1)) if total else 0
# Microseconds of processor time a request.
us = lambda ticks: f"{int(ticks) * 1e6 / int(sys.argv[5]) / n:.1f}" if ticks and n else ""
print("\t".join([sys.argv[2], rps.group(1) if rps else "0", str(ms(p50.group(1))) if p50 else "",
                 str(ms(p99.group(1))) if p99 else "", bad.group(1) if bad else "0",
                 str(n), (errors.group(1) if errors else "").strip(), us(sys.argv[3]), us(sys.argv[4])]))
PY
}

# Processor time (clock ticks, user and system) of processes: the server; the database's
# processes when the cluster is this script's own (its postmaster with the backends that have
# ended, and every backend still running).
clock_ticks=$(getconf CLK_TCK)
ticks_of() { # pid...
  local sum=0 p
  for p in "$@"; do
    # Fields 14 to 17 of /proc/PID/stat (its own time, and that of its children that have ended),
    # counted after the command's name, which may hold spaces.
    if [ -r "/proc/$p/stat" ]; then sum=$((sum + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 + $14 + $15 }'))); fi
  done
  echo "$sum"
}
server_ticks() { if [ -n "$server" ]; then ticks_of "$server"; else echo 0; fi; }
db_ticks() {
  [ -n "$pg_private" ] && [ -f "$pg_data/postmaster.pid" ] || return 0
  local postmaster
  postmaster=$(head -1 "$pg_data/postmaster.pid")
  # shellcheck disable=SC2046
  ticks_of "$postmaster" $(pgrep -P "$postmaster")
}

start_server() { # database url [env...]
  local db=$1
  shift
  env "$@" DVC_DATABASE_URL="$db" DVC_LISTEN=127.0.0.1:18080 DVC_SANDBOX=1 DVC_AUTH_RATE_PER_MINUTE=0 DVC_LOOKUP_RATE_PER_MINUTE=0 RUST_LOG=warn \
    DVC_DB_POOL_SIZE=${BENCH_POOL:-24} DVC_DATA_DIR="$work/files" $dvc serve >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && return; sleep 0.1; done
  echo "the server did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
}
stop_server() {
  peak=$(awk '/VmHWM/ { print $2 }' "/proc/$server/status")
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
  echo "$peak"
}
token_of() {
  curl -sf -X POST http://127.0.0.1:18080/api/v1/auth/token -H 'content-type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"Matkhau@2026\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# The paths each scenario picks from at random.
paths() { # database-url prefix
  local db=$1 p=$2
  local sql
  if [[ $db == postgres* ]]; then
    sql() { psql -X -q -t -A "$db" -c "$1"; }
  else
    sql() { python3 -c 'import sqlite3, sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "${db#sqlite://}" "$1"; }
  fi
  sql "SELECT '/api/v1/procedures/' || code FROM procedures WHERE code LIKE 'SYN.%' ORDER BY code LIMIT 2000" >"$work/$p-detail.txt"
  sql "SELECT '/api/v1/dossiers/lookup?code=' || code FROM dossiers ORDER BY id LIMIT 5000" >"$work/$p-lookup.txt"
  # Searches as people type them, many different ones so that nothing but the index helps: two to
  # four words of a procedure's name, often without marks, some with a typing error, on pages 1-3,
  # a third within a tier; and search-as-you-type prefixes.
  sql "SELECT name FROM procedures ORDER BY code" >"$work/$p-names.txt"
  python3 scripts/bench_queries.py "$work/$p-names.txt" "$work/$p-search.txt" "$work/$p-suggest.txt"
  for page in 1 2 3 4 5; do echo "/api/v1/me/dossiers?page=$page" >>"$work/$p-mine.txt"; done
  for page in 1 2 3 4 5; do echo "/api/v1/agency/dossiers?page=$page" >>"$work/$p-inbox.txt"; done
  # Deep pages of the all-agency inbox: the page after each of 200 dossiers taken at random, by
  # the cursor of its sort key (due date, submission time, id).
  if [[ $db == postgres* ]]; then
    sql "SELECT COALESCE(due_date::text, '-') || '~' || to_char(submitted_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '~' || id
         FROM dossiers WHERE status <> 'draft' AND submitted_at IS NOT NULL ORDER BY random() LIMIT 200" >"$work/$p-keys.txt"
  else
    sql "SELECT COALESCE(due_date, '-') || '~' || replace(submitted_at, ' ', 'T') || '~' || id
         FROM dossiers WHERE status <> 'draft' AND submitted_at IS NOT NULL ORDER BY random() LIMIT 200" >"$work/$p-keys.txt"
  fi
  python3 -c 'import base64, sys
for key in open(sys.argv[1]).read().split():
    print("/api/v1/agency/dossiers?after=" + base64.urlsafe_b64encode(("i~" + key).encode()).decode().rstrip("="))' \
    "$work/$p-keys.txt" >"$work/$p-deep.txt"
  # The year up to today, for everything and for one agency (the officer's).
  local today year_ago
  today=$(date -u -d '+7 hours' +%F)
  year_ago=$(date -u -d '+7 hours -1 year +1 day' +%F)
  echo "/api/v1/statistics/summary?from=$year_ago&to=$today" >"$work/$p-stats.txt"
  echo "/api/v1/statistics/agencies/AGENCY?from=$year_ago&to=$today" >"$work/$p-agency-stats.txt"
  echo "/healthz" >"$work/$p-healthz.txt"
}

scenarios() { # prefix database-url
  local p=$1 db=$2
  wanted "$p" || return 0
  echo "$p: scenarios"
  paths "$db" "$p"
  start_server "$db"
  local citizen officer procedure agency
  citizen=$(token_of syn00000)
  officer=$(token_of syn.officer)
  procedure=$(curl -sf http://127.0.0.1:18080/api/v1/procedures/SYN.000001 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["agencies"][0]["id"])')
  agency=${procedure#* }
  procedure=${procedure% *}
  local url=http://127.0.0.1:18080
  run_wrk "$p healthz" $url bench/wrk/pick.lua PATHS="$work/$p-healthz.txt"
  run_wrk "$p procedure detail" $url bench/wrk/pick.lua PATHS="$work/$p-detail.txt"
  run_wrk "$p procedure search" $url bench/wrk/pick.lua PATHS="$work/$p-search.txt"
  run_wrk "$p procedure suggest" $url bench/wrk/pick.lua PATHS="$work/$p-suggest.txt"
  run_wrk "$p lookup by code" $url bench/wrk/pick.lua PATHS="$work/$p-lookup.txt"
  run_wrk "$p me/dossiers" $url bench/wrk/pick.lua PATHS="$work/$p-mine.txt" TOKEN="$citizen"
  run_wrk "$p officer inbox" $url bench/wrk/pick.lua PATHS="$work/$p-inbox.txt" TOKEN="$officer"
  run_wrk "$p create+submit" $url bench/wrk/create_submit.lua TOKEN="$(token_of syn00001)" PROCEDURE="$procedure" AGENCY="$agency"
  # One sign-in for both rows, and none when neither runs: each password hash takes its 19 MiB,
  # which would count in the peak.
  local admin=""
  if selected "$p all-agency inbox, deep page" || selected "$p all-agency inbox, deep page, one client"; then
    admin=$(token_of syn.admin)
  fi
  run_wrk "$p all-agency inbox, deep page" $url bench/wrk/pick.lua PATHS="$work/$p-deep.txt" TOKEN="$admin"
  # What one such page costs when it is the only request.
  conns=1 run_wrk "$p all-agency inbox, deep page, one client" $url bench/wrk/pick.lua PATHS="$work/$p-deep.txt" TOKEN="$admin"
  statistics_rows "$p" "$agency"
  echo -e "$p peak RSS\t$(stop_server)" >>"$work/rss.tsv"
  # The lists again with no page kept: what a page costs when its list has just changed.
  if selected "$p me/dossiers, uncached" || selected "$p officer inbox, uncached"; then
    start_server "$db" DVC_LIST_CACHE_BYTES=0
    run_wrk "$p me/dossiers, uncached" $url bench/wrk/pick.lua PATHS="$work/$p-mine.txt" TOKEN="$citizen"
    run_wrk "$p officer inbox, uncached" $url bench/wrk/pick.lua PATHS="$work/$p-inbox.txt" TOKEN="$officer"
    stop_server >/dev/null
  fi
}

# The statistics of a year, with a few clients; then lookups by code while 64 other connections
# ask for statistics all the time (the statistics wait in their own bounded share, or are told to
# come back later, which these clients honour, and the lookups keep their pace).
statistics_rows() { # prefix agency-id
  local p=$1 url=http://127.0.0.1:18080
  sed -i "s/AGENCY/$2/" "$work/$p-agency-stats.txt"
  conns=$stats_connections run_wrk "$p statistics year" $url bench/wrk/pick.lua PATHS="$work/$p-stats.txt"
  # One report at a time: its own cost (the rows above queue in the statistics' bounded share).
  conns=1 run_wrk "$p statistics year, one client" $url bench/wrk/pick.lua PATHS="$work/$p-stats.txt"
  conns=$stats_connections run_wrk "$p statistics agency year" $url bench/wrk/pick.lua PATHS="$work/$p-agency-stats.txt"
  if selected "$p lookup by code, 64 statistics clients"; then
    PATHS="$work/$p-stats.txt" wrk -t1 -c64 -d"$((seconds + 4))s" -s bench/wrk/polite.lua "$url" \
      >"$work/$p-stats-load.txt" 2>&1 &
    local load=$!
    sleep 1
    # (The processor time of this row is mostly the statistics clients': not shown as its cost.)
    cost=0 run_wrk "$p lookup by code, 64 statistics clients" $url bench/wrk/pick.lua PATHS="$work/$p-lookup.txt"
    wait $load || true
    echo "$p statistics clients during the lookups: $(grep -hE 'requests in|Non-2xx' "$work/$p-stats-load.txt" | tr -s ' ' | tr '\n' ';')"
  fi
}

# The statistics rows again on a tenth of the data: the same cost.
small_scenarios() {
  wanted pg100k || return 0
  local db=$pg_admin/$pg_small_db
  echo "pg100k: scenarios"
  paths "$db" pg100k
  start_server "$db"
  local agency
  agency=$(curl -sf http://127.0.0.1:18080/api/v1/procedures/SYN.000001 | python3 -c 'import json,sys; print(json.load(sys.stdin)["agencies"][0]["id"])')
  statistics_rows pg100k "$agency"
  stop_server >/dev/null
}

scenarios pg "$pg_admin/$pg_db"
small_scenarios
scenarios sqlite "sqlite://$work/bench.sqlite3"

# ---- pgbench: the same core SQL, and the TPC-B-like write mix ----
cat >"$work/detail.sql" <<'SQL'
\set n random(1, 2000)
SELECT * FROM procedures WHERE code = 'SYN.' || lpad(:n::text, 6, '0');
SQL
psql_db $pg_db "DROP TABLE IF EXISTS bench_codes; CREATE TABLE bench_codes AS SELECT row_number() OVER () AS i, code FROM (SELECT code FROM dossiers ORDER BY id LIMIT 5000) c; CREATE UNIQUE INDEX ON bench_codes (i)"
cat >"$work/lookup.sql" <<'SQL'
\set n random(1, 5000)
SELECT d.* FROM bench_codes b JOIN dossiers d ON d.code = b.code WHERE b.i = :n;
SQL
pgbench_tps() { # label args...
  local label=$1
  shift
  selected "$label" || return 0
  local out=$work/pgbench-${label//[^a-zA-Z0-9]/_}.txt
  local logs=$work/pglog-${label//[^a-zA-Z0-9]/_}
  local db_before
  db_before=$(db_ticks)
  pgbench -l --log-prefix="$logs" "$@" >"$out" 2>&1 || true
  local db_ticks_run=""
  if [ -n "$db_before" ]; then db_ticks_run=$(($(db_ticks) - db_before)); fi
  python3 - "$out" "$label" "$logs" "$db_ticks_run" "$clock_ticks" >>"$results" <<'PY'
import glob, re, sys
text = open(sys.argv[1]).read()
tps = re.search(r"tps = ([\d.]+)", text)
# Per-transaction latencies (microseconds, third column) for the median and the 99th percentile.
lat = sorted(int(line.split()[2]) for f in glob.glob(sys.argv[3] + ".*") for line in open(f) if line.strip())
pct = lambda q: str(lat[min(len(lat) - 1, int(len(lat) * q))] / 1000) if lat else ""
db_us = f"{int(sys.argv[4]) * 1e6 / int(sys.argv[5]) / len(lat):.1f}" if sys.argv[4] and lat else ""
print("\t".join([sys.argv[2], tps.group(1) if tps else "0", pct(0.5), pct(0.99), "0", str(len(lat)), "", "", db_us]))
PY
}
pgbench_tps "pgbench detail by code" -n -M prepared -c "$connections" -j "$threads" -T "$seconds" -f "$work/detail.sql" "$pg_admin/$pg_db"
pgbench_tps "pgbench lookup by code" -n -M prepared -c "$connections" -j "$threads" -T "$seconds" -f "$work/lookup.sql" "$pg_admin/$pg_db"
if selected "pgbench TPC-B-like"; then
  psql_db postgres "DROP DATABASE IF EXISTS dvc_pgbench WITH (FORCE)"
  psql_db postgres "CREATE DATABASE dvc_pgbench"
  pgbench -q -i -s 10 "$pg_admin/dvc_pgbench" >/dev/null 2>&1
  pgbench_tps "pgbench TPC-B-like" -n -M prepared -c 16 -j "$threads" -T "$seconds" "$pg_admin/dvc_pgbench"
  psql_db postgres "DROP DATABASE IF EXISTS dvc_pgbench WITH (FORCE)"
fi

python3 - "$results" "$work/rss.tsv" bench/results.json "$dossiers" "$sqlite_dossiers" "$connections" "$seconds" "$small_dossiers" <<'PY'
import json, sys, platform, os
rows = {}
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("\t")
    label, rps, p50, p99, bad, total, errors, server_us, db_us = (parts + [""] * 9)[:9]
    rows[label] = {"rps": float(rps or 0), "p50_ms": float(p50) if p50 else None,
                   "p99_ms": float(p99) if p99 else None, "non_2xx": int(bad or 0), "requests": int(total or 0),
                   "socket_errors": errors, "server_us": float(server_us) if server_us else None,
                   "db_us": float(db_us) if db_us else None}
rss = {}
for line in open(sys.argv[2]):
    label, kb = line.rstrip("\n").split("\t")
    rss[label] = int(kb) / 1024
# Ratios: reads to the framework's ceiling, lookups to pgbench, writes to pgbench's TPC-B-like.
ref = {
    "procedure detail": ("healthz", 0.5), "procedure search": ("healthz", 0.25),
    "procedure suggest": ("healthz", None),
    "lookup by code": ("pgbench lookup by code", None), "me/dossiers": ("healthz", None),
    "officer inbox": ("healthz", None), "create+submit": ("pgbench TPC-B-like", 1 / 3),
    "me/dossiers, uncached": ("healthz", None), "officer inbox, uncached": ("healthz", None),
}
p99_target = {"procedure detail": 20, "procedure search": 10, "procedure suggest": 5, "lookup by code": 10,
              "me/dossiers": 10, "statistics year": 50, "statistics agency year": 50,
              "lookup by code, 64 statistics clients": 10, "all-agency inbox, deep page": 20}
print()
# srv µs and db µs: processor time a request (a transaction for pgbench) of the server and of
# PostgreSQL over the run; SQLite's work is the server's own.
print(f"{'scenario':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'srv µs':>7} {'db µs':>7} {'ratio':>7}  {'vs':22} {'target':18} ok")
print("-" * 134)
verdicts = []
cost = lambda v: f"{v:.0f}" if v is not None else ""
for label, r in rows.items():
    prefix, _, name = label.partition(" ")
    ratio, vs, target, ok = "", "", "", ""
    checks = []
    if name in ref and prefix in ("pg", "sqlite"):
        base_label, min_ratio = ref[name]
        base = rows.get(base_label if base_label.startswith("pgbench") else f"{prefix} {base_label}", {}).get("rps", 0)
        value = r["rps"] / 2 if name == "create+submit" else r["rps"]
        if base:
            ratio = value / base
            vs = base_label
        if min_ratio and prefix == "pg":
            checks.append(ratio != "" and ratio >= min_ratio)
            target = f"≥{min_ratio:.2f}x"
        r["ratio"] = ratio if ratio != "" else None
    if name in p99_target and prefix in ("pg", "pg100k") and r["p99_ms"] is not None:
        checks.append(r["p99_ms"] < p99_target[name])
        target += f" p99<{p99_target[name]}ms"
    if checks and r["non_2xx"]:
        checks.append(False)
    if checks:
        ok = "yes" if all(checks) else "NO"
        verdicts.append(all(checks))
    shown = f"{ratio:.2f}" if ratio != "" else ""
    p50 = f"{r['p50_ms']:.2f}" if r["p50_ms"] is not None else ""
    p99 = f"{r['p99_ms']:.2f}" if r["p99_ms"] is not None else ""
    extra = f"  ({r['non_2xx']} non-2xx)" if r["non_2xx"] else ""
    note = " (dossiers/s)" if name == "create+submit" else ""
    shown_rate = r["rps"] / 2 if name == "create+submit" else r["rps"]
    print(f"{label + note:34} {shown_rate:>9.0f} {p50:>8} {p99:>8} {cost(r['server_us']):>7} {cost(r['db_us']):>7} "
          f"{shown:>7}  {vs:22} {target:18} {ok}{extra}")
for label, mb in rss.items():
    ok = "yes" if mb < 200 else "NO"
    verdicts.append(mb < 200)
    print(f"{label:34} {mb:>8.1f} MB{'':63} {'<200MB':18} {ok}")
print(f"\ndata: {sys.argv[4]} dossiers on PostgreSQL (pg100k: {sys.argv[8]}), {sys.argv[5]} on SQLite; wrk {sys.argv[6]} connections, "
      f"{sys.argv[7]} s per scenario, on {os.cpu_count()} cores ({platform.machine()})")
print(f"targets met: {sum(verdicts)} of {len(verdicts)}")
json.dump({"scenarios": rows, "peak_rss_mb": rss, "cores": os.cpu_count()}, open(sys.argv[3], "w"), indent=2)
PY
