#!/usr/bin/env bash
# What the tests need beyond the Rust toolchain, installed when missing: PostgreSQL running,
# Debian's chromium and chromium-driver (the Swagger UI test), poppler-utils (PDFs read back with
# pdftotext, their pages and images counted by pdfinfo and pdfimages, their signatures checked by
# pdfsig), jq (the README walkthrough), and s3s-fs, an S3-compatible server from crates.io
# that the file-storage tests start on loopback (built once into ${DVC_TOOLS:-~/.cache/dvc}), and
# aiosmtpd, the SMTP server from PyPI that the e-mail tests start on loopback, and oidc-provider,
# the OpenID provider from npm that the sign-in tests start on loopback (scripts/oidc/provider.mjs).
# `make test` runs this first, so a fresh clone needs nothing done by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/require-postgres.sh

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} ..."
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

tools=${DVC_TOOLS:-$HOME/.cache/dvc}
if [ ! -x "$tools/s3s/bin/s3s-fs" ]; then
  echo "building s3s-fs into $tools/s3s (once) ..."
  cargo install --quiet --locked s3s-fs --version 0.14.1 --features binary --root "$tools/s3s"
fi

if [ ! -x "$tools/smtp/bin/aiosmtpd" ]; then
  echo "installing aiosmtpd into $tools/smtp (once) ..."
  python3 -m venv "$tools/smtp"
  "$tools/smtp/bin/pip" install -q 'aiosmtpd>=1.4,<2'
fi

if [ ! -f "$tools/oidc/node_modules/oidc-provider/package.json" ]; then
  echo "installing oidc-provider into $tools/oidc (once) ..."
  mkdir -p "$tools/oidc"
  npm install --prefix "$tools/oidc" --no-audit --no-fund --silent oidc-provider@9.13.3
fi
