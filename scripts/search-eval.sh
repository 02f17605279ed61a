#!/usr/bin/env bash
# `make search-eval`: the committed relevance set (api/seed/search-relevance.tsv) against the demo
# catalogue served by a fresh server on SQLite and on PostgreSQL. For each database it prints the
# queries that miss and how many put the expected procedure in the first three; it fails when
# fewer than SEARCH_EVAL_MIN percent (90) do, or when a query about nothing in the catalogue finds
# something.
set -euo pipefail
cd "$(dirname "$0")/.."
dvc=target/debug/dvc
pg=${DVC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
scripts/require-postgres.sh
work=$(mktemp -d)
server=""
trap 'if [ -n "$server" ]; then kill $server 2>/dev/null || true; fi; rm -rf "$work"' EXIT
status=0
evaluate() { # label database-url
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export DVC_DATABASE_URL=$2 DVC_LISTEN="127.0.0.1:$port" DVC_DATA_DIR="$work/files" DVC_SANDBOX=1 RUST_LOG=warn
  $dvc seed --demo >/dev/null
  $dvc serve >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  echo "== $1"
  python3 scripts/search_eval.py "http://127.0.0.1:$port" api/seed/search-relevance.tsv "${SEARCH_EVAL_MIN:-90}" || status=1
  kill $server
  wait $server 2>/dev/null || true
  server=""
}
evaluate sqlite "sqlite://$work/eval.sqlite3"
psql -X -q "$pg" -c "DROP DATABASE IF EXISTS dvc_search_eval WITH (FORCE)" -c "CREATE DATABASE dvc_search_eval"
evaluate postgres "${pg%/*}/dvc_search_eval"
psql -X -q "$pg" -c "DROP DATABASE IF EXISTS dvc_search_eval WITH (FORCE)"
exit $status
