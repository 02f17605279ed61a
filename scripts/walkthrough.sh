#!/usr/bin/env bash
# The README's walkthrough, end to end, against a running server in sandbox mode (`make run`):
# a citizen registers by phone and files a birth registration (1.001193) with the downloaded form
# attached; an officer of the ward receives it, processes it, issues the result and returns it;
# anyone tracks it by its code. Every command below is the README's, word for word (a test checks
# that), so the README cannot drift from what the server does.
#
#   DVC_URL            the server (default http://127.0.0.1:8080)
#   DVC_ADMIN_USER     an administrator (default admin, as `make run` creates)
#   DVC_ADMIN_PASSWORD its password (default Quantri@2026)
# Each run registers a new citizen (a fresh ID number and phone), so it can run again and again.
set -euo pipefail
API=${DVC_URL:-http://127.0.0.1:8080}/api/v1
ADMIN_USER=${DVC_ADMIN_USER:-admin}
ADMIN_PASSWORD=${DVC_ADMIN_PASSWORD:-Quantri@2026}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# A fresh identity each run: a Hà Nội ID number of a man born in 1999, and a Viettel number.
ID_NUMBER=0010990$(printf '%05d' $((RANDOM % 100000)))
PHONE=091$(printf '%07d' $((RANDOM * 3 % 10000000)))
step() { printf '\n== %s\n' "$*"; }
# Fails with the server's problem+json when a call does not answer the expected status.
call() { # expected-status curl-args...
  local want=$1
  shift
  local got
  got=$(curl -sS -o body.json -w '%{http_code}' "$@")
  if [ "$got" != "$want" ]; then
    echo "expected HTTP $want, got $got: $(cat body.json)" >&2
    exit 1
  fi
  cat body.json
}

step "1. A citizen registers by phone (sandbox mode answers the OTP as sandbox_otp)"
# walkthrough:citizen
REG=$(curl -s -X POST "$API/registrations" -H 'Content-Type: application/json' -d '{
  "account_type": "citizen", "method": "phone", "full_name": "Nguyễn Văn An",
  "id_number": "'"$ID_NUMBER"'", "date_of_birth": "1999-05-01", "phone": "'"$PHONE"'"}')
REG_ID=$(echo "$REG" | jq -r .id)
OTP=$(echo "$REG" | jq -r .sandbox_otp)
curl -s -X POST "$API/registrations/$REG_ID/verify" -H 'Content-Type: application/json' -d '{"otp": "'"$OTP"'"}'
curl -s -X POST "$API/registrations/$REG_ID/complete" -H 'Content-Type: application/json' \
  -d '{"password": "Matkhau@2026"}'
CITIZEN=$(curl -s -X POST "$API/auth/token" -H 'Content-Type: application/json' \
  -d '{"username": "'"$ID_NUMBER"'", "password": "Matkhau@2026"}' | jq -r .access_token)
# end
[ "$CITIZEN" != null ] || { echo "the citizen could not sign in" >&2; exit 1; }

step "2. The procedure: what it needs, and its form to fill"
# walkthrough:procedure
curl -s "$API/procedures/1.001193" | jq '{name, required_documents, accepted_file_types, forms}'
curl -s -o to-khai.pdf "$API/procedures/1.001193/forms/TK-KS"
# end
call 200 "$API/procedures/1.001193" >/dev/null
[ "$(head -c 5 to-khai.pdf)" = "%PDF-" ] || { echo "the form is not a PDF" >&2; exit 1; }

step "3. A draft for the ward of Hoàn Kiếm (agency code H26.00070), its documents, and submission"
# walkthrough:dossier
DOSSIER=$(curl -s -X POST "$API/dossiers" -H "Authorization: Bearer $CITIZEN" \
  -H 'Content-Type: application/json' -d '{
  "procedure_id": "1.001193", "agency_id": "H26.00070", "delivery": {"method": "online"},
  "form_data": {"child_full_name": "Nguyễn Minh Khang", "child_date_of_birth": "2026-11-20",
    "child_sex": "Nam", "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "ethnicity": "Kinh",
    "nationality": "Việt Nam", "mother_full_name": "Trần Thị Hoa", "father_full_name": "Nguyễn Văn An",
    "relationship": "Cha"}}' | jq -r .id)
curl -s -X POST "$API/dossiers/$DOSSIER/attachments" -H "Authorization: Bearer $CITIZEN" \
  -F document_id=TK-KS -F file=@to-khai.pdf
cp to-khai.pdf giay-chung-sinh.pdf   # in real life: the hospital's birth certificate, scanned
curl -s -X POST "$API/dossiers/$DOSSIER/attachments" -H "Authorization: Bearer $CITIZEN" \
  -F document_id=GCS -F file=@giay-chung-sinh.pdf
CODE=$(curl -s -X POST "$API/dossiers/$DOSSIER/submit" -H "Authorization: Bearer $CITIZEN" | jq -r .code)
echo "submitted as $CODE"
# end
[ "$CODE" != null ] || { echo "the dossier was not submitted" >&2; exit 1; }
call 200 "$API/dossiers/$DOSSIER" -H "Authorization: Bearer $CITIZEN" | jq -e '.status == "submitted"' >/dev/null

step "4. An officer of the ward receives, processes, issues the result and returns it"
# walkthrough:officer
ADMIN=$(curl -s -X POST "$API/auth/token" -H 'Content-Type: application/json' \
  -d '{"username": "'"$ADMIN_USER"'", "password": "'"$ADMIN_PASSWORD"'"}' | jq -r .access_token)
OFFICER_NAME=canbo.$RANDOM
curl -s -X POST "$API/admin/staff" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"username": "'"$OFFICER_NAME"'", "full_name": "Lê Thị Bình", "agency_id": "H26.00070",
       "role": "officer", "password": "Canbo@2026"}'
OFFICER=$(curl -s -X POST "$API/auth/token" -H 'Content-Type: application/json' \
  -d '{"username": "'"$OFFICER_NAME"'", "password": "Canbo@2026"}' | jq -r .access_token)
curl -s "$API/agency/dossiers?status=submitted" -H "Authorization: Bearer $OFFICER" | jq '.items[].code'
move() { curl -s -X POST "$API/dossiers/$DOSSIER/transitions" -H "Authorization: Bearer $OFFICER" \
  -H 'Content-Type: application/json' -d "$1" | jq '{status, national_status_code, due_date}'; }
move '{"action": "receive"}'
move '{"action": "start_processing"}'
cp to-khai.pdf giay-khai-sinh.pdf   # in real life: the signed birth certificate
curl -s -X POST "$API/dossiers/$DOSSIER/results" -H "Authorization: Bearer $OFFICER" -F file=@giay-khai-sinh.pdf
move '{"action": "complete"}'
move '{"action": "return_result"}'
# end
call 200 "$API/dossiers/$DOSSIER" -H "Authorization: Bearer $CITIZEN" | jq -e '.status == "returned"' >/dev/null

step "5. Anyone tracks it by its code, without signing in"
# walkthrough:tracking
curl -s "$API/dossiers/lookup?code=$CODE" | jq '{status, national_status_code, timeline: [.timeline[].action]}'
# end
call 200 "$API/dossiers/lookup?code=$CODE" | jq -e '.status == "returned" and .national_status_code == 10' >/dev/null
echo
echo "walkthrough complete: $CODE returned"
