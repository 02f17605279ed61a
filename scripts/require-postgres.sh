#!/usr/bin/env bash
# The PostgreSQL half of the tests needs a server; start the local cluster when it is down.
set -euo pipefail
url=${DVC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ready() { pg_isready -q -d "$url" 2>/dev/null; }
if ready; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)
  if [ -n "$version" ]; then
    echo "starting PostgreSQL $version ..."
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start || true
  fi
fi
for _ in $(seq 1 30); do
  if ready; then exit 0; fi
  sleep 1
done
echo "PostgreSQL is not reachable at $url; the tests need it (set DVC_TEST_POSTGRES_URL to use another server)." >&2
exit 1
