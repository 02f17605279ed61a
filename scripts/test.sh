#!/usr/bin/env bash
# Runs every test target (unit tests and the black-box suite on both databases) and closes with
# one summary line of all the results.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The file-storage tests start this S3-compatible server (scripts/test-deps.sh builds it).
export DVC_S3S_FS=${DVC_S3S_FS:-${DVC_TOOLS:-$HOME/.cache/dvc}/s3s/bin/s3s-fs}
# The e-mail tests start this SMTP server (scripts/test-deps.sh installs it).
export DVC_AIOSMTPD=${DVC_AIOSMTPD:-${DVC_TOOLS:-$HOME/.cache/dvc}/smtp/bin/aiosmtpd}
# The sign-in tests start an OpenID provider from this oidc-provider install (scripts/test-deps.sh).
export DVC_OIDC_NODE_MODULES=${DVC_OIDC_NODE_MODULES:-${DVC_TOOLS:-$HOME/.cache/dvc}/oidc/node_modules}
# The crash tests run the real binary as a child process.
cargo build --bin dvc
cargo test --workspace --all-targets "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^passed/) n += $i } END { print n + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^failed/) n += $i } END { print n + 0 }' "$log")
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
