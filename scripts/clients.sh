#!/usr/bin/env bash
# `make clients`: the OpenAPI document as its users' tools read it.
#  1. Lint: openapi-spec-validator, Redocly's recommended rules and Spectral's spectral:oas with no
#     error, openapi-generator's validation with no error (warnings are printed).
#  2. TypeScript: types by openapi-typescript, compiled with `tsc --strict` together with
#     clients/typescript/flow.ts.
#  3. Python: a client by openapi-python-client, which clients/python/flow.py drives through a
#     citizen's dossier against a freshly started server.
#  4. Kotlin (Android), Swift (iOS) and Dart (Flutter) clients by openapi-generator, with its
#     validation on (generated, not compiled: their build tools fetch from Maven Central and others).
# The tools are installed once into ${DVC_TOOLS:-~/.cache/dvc} and reused; nothing generated is
# kept: it goes to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${DVC_TOOLS:-$HOME/.cache/dvc}
spec=$PWD/openapi.yaml
mkdir -p "$tools/npm"
if [ ! -x "$tools/npm/node_modules/.bin/redocly" ] || [ ! -x "$tools/npm/node_modules/.bin/tsc" ]; then
  echo "installing the npm tools into $tools/npm ..."
  (cd "$tools/npm" && npm install --no-fund --no-audit --silent \
    @redocly/cli@2 @stoplight/spectral-cli@6 openapi-typescript@7 typescript@5 >/dev/null)
fi
if [ ! -x "$tools/venv/bin/openapi-generator-cli" ]; then
  echo "installing the Python tools into $tools/venv ..."
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q 'openapi-spec-validator>=0.7,<1' 'openapi-python-client>=0.25,<1' \
    'openapi-generator-cli==7.*'
fi
bin=$tools/npm/node_modules/.bin
py=$tools/venv/bin
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

echo "== lint"
"$py/openapi-spec-validator" "$spec"
NO_UPDATE_NOTIFIER=1 REDOCLY_TELEMETRY=off "$bin/redocly" lint "$spec" --format=summary 2>&1 | grep -v '^ *║\|^ *╔\|^ *╚' || {
  echo "Redocly found errors" >&2
  exit 1
}
printf 'extends: ["spectral:oas"]\n' >"$work/spectral.yaml"
"$bin/spectral" lint -r "$work/spectral.yaml" "$spec" --fail-severity error --display-only-failures -f text ||
  { echo "Spectral found errors" >&2; exit 1; }
"$bin/spectral" lint -r "$work/spectral.yaml" "$spec" --fail-severity error -f text 2>/dev/null |
  grep -c ' warning ' | sed 's/^/spectral warnings: /' || true
"$py/openapi-generator-cli" validate -i "$spec" | tail -n 4

echo "== typescript"
"$bin/openapi-typescript" "$spec" -o "$work/ts/schema.d.ts" --silent
cp clients/typescript/flow.ts "$work/ts/"
"$bin/tsc" --strict --noEmit --target es2022 --module es2022 --moduleResolution bundler --lib es2022,dom \
  "$work/ts/flow.ts"
echo "tsc --strict: the typed call sequence compiles"

echo "== python"
cat >"$work/python.yaml" <<'EOF'
project_name_override: dvc-client
package_name_override: dvc_client
post_hooks: []
content_type_overrides:
  image/png: application/octet-stream
  image/svg+xml: application/octet-stream
  application/pdf: application/octet-stream
EOF
generated=$("$py/openapi-python-client" generate --path "$spec" --output-path "$work/py" --config "$work/python.yaml" 2>&1)
if echo "$generated" | grep -Ei 'warning|error|skipp|cannot parse'; then
  echo "openapi-python-client left something out" >&2
  exit 1
fi
"$py/pip" install -q "httpx>=0.23,<0.29" "attrs>=22.2" python-dateutil
cargo build --quiet --bin dvc
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DVC_DATABASE_URL="sqlite://$work/dvc.sqlite3" DVC_LISTEN="127.0.0.1:$port" DVC_SANDBOX=1 \
  DVC_DATA_DIR="$work/files" DVC_AUTH_RATE_PER_MINUTE=0 RUST_LOG=warn
target/debug/dvc seed --demo >/dev/null
target/debug/dvc serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
PYTHONPATH="$work/py" "$py/python" clients/python/flow.py "http://127.0.0.1:$port"

echo "== kotlin, swift5, dart"
for generator in kotlin swift5 dart; do
  if ! "$py/openapi-generator-cli" generate -i "$spec" -g "$generator" -o "$work/$generator" >"$work/$generator.log" 2>&1; then
    cat "$work/$generator.log" >&2
    exit 1
  fi
  if grep -E '\[error\]|ERROR' "$work/$generator.log"; then exit 1; fi
  echo "$generator: generated with validation, $(grep -c WARN "$work/$generator.log" || true) warnings"
done
echo "clients: all generated and checked"
