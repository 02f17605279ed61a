#!/usr/bin/env bash
# Runs schemathesis with every check against a freshly seeded server on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DVC_DATABASE_URL="sqlite://$work/dvc.sqlite3" DVC_LISTEN="127.0.0.1:$port" DVC_SANDBOX=1 DVC_DATA_DIR="$work/files"
export DVC_AUTH_RATE_PER_MINUTE=0 DVC_LOOKUP_RATE_PER_MINUTE=0 DVC_CALLBACK_RATE_PER_MINUTE=0 RUST_LOG=warn
dvc=target/debug/dvc
$dvc seed --demo >/dev/null
$dvc admin create --username admin --password 'Quantri@2026' >/dev/null
$dvc serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"Quantri@2026"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api-docs/openapi.json" \
  --url "http://127.0.0.1:$port" --checks all --max-examples "${CONFORMANCE_EXAMPLES:-30}" \
  --header "Authorization: Bearer $token" --seed "${CONFORMANCE_SEED:-1}" --no-color \
  "$@"

# The stateful phase again as a citizen, over the applicant's operations, so that the document's
# links (a new dossier's id into its attachments, submission and history; a submission's code into
# public tracking; a registration's id into its verification) are followed through real workflows.
api="http://127.0.0.1:$port/api/v1"
id_number=0010990$(printf '%05d' $((RANDOM % 100000)))
phone=091$(printf '%07d' $((RANDOM * 3 % 10000000)))
registration=$(curl -sf -X POST "$api/registrations" -H 'content-type: application/json' \
  -d '{"account_type":"citizen","method":"phone","full_name":"Nguyễn Văn An","id_number":"'"$id_number"'",
       "date_of_birth":"1999-05-01","phone":"'"$phone"'"}')
reg_id=$(echo "$registration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
otp=$(echo "$registration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sandbox_otp"])')
curl -sf -X POST "$api/registrations/$reg_id/verify" -H 'content-type: application/json' -d '{"otp":"'"$otp"'"}' >/dev/null
curl -sf -X POST "$api/registrations/$reg_id/complete" -H 'content-type: application/json' \
  -d '{"password":"Matkhau@2026"}' >/dev/null
citizen=$(curl -sf -X POST "$api/auth/token" -H 'content-type: application/json' \
  -d '{"username":"'"$id_number"'","password":"Matkhau@2026"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api-docs/openapi.json" \
  --url "http://127.0.0.1:$port" --checks all --phases stateful --include-tag dossiers --include-tag payments \
  --max-examples "${CONFORMANCE_EXAMPLES:-30}" --header "Authorization: Bearer $citizen" \
  --seed "${CONFORMANCE_SEED:-1}" --no-color "$@"
