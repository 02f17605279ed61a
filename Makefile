# dvc — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
DVC := target/debug/dvc
# The local default configuration: an embedded SQLite file and sandbox mode.
export DVC_DATABASE_URL ?= sqlite://data/dvc.sqlite3
export DVC_LISTEN ?= 127.0.0.1:8080
RUN_ENV := DVC_SANDBOX=$${DVC_SANDBOX:-1}

.PHONY: run reset build test lint fmt openapi clients conformance search-eval bench fuzz clean

## Build, migrate, load the demo catalogue and serve the API (Swagger UI at /docs/).
run: build
	@echo "Data: $(DVC_DATABASE_URL) and uploaded files in $${DVC_DATA_DIR:-data/files} ('make reset' starts afresh)"
	$(RUN_ENV) $(DVC) migrate
	$(RUN_ENV) $(DVC) seed --demo
	$(RUN_ENV) $(DVC) admin create --username admin --password 'Quantri@2026'
	@echo "Swagger UI: http://$(DVC_LISTEN)/docs/  (sandbox administrator: admin / Quantri@2026)"
	$(RUN_ENV) $(DVC) serve

build:
	$(CARGO) build --bin dvc

## Drop the local database and uploaded files (the build stays); the next 'make run' starts afresh.
reset:
	rm -rf data

## Every test: domain rules and the black-box suite on SQLite and PostgreSQL. Installs what the
## tests need when it is missing (PostgreSQL started, chromium, chromium-driver, poppler-utils, jq,
## an S3 server, an SMTP server, an OpenID provider).
test:
	scripts/test-deps.sh
	scripts/test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Regenerate the committed OpenAPI document from the code.
openapi: build
	$(DVC) openapi > openapi.yaml

## The OpenAPI document as users' tools read it: Redocly, Spectral and openapi-generator lint it,
## and TypeScript, Python, Kotlin, Swift and Dart clients are generated (the Python one runs a flow).
clients: build
	scripts/clients.sh

## Schemathesis (all checks) against a freshly seeded server.
conformance: build
	scripts/conformance.sh

## The catalogue search against its relevance set (api/seed/search-relevance.tsv) on SQLite and
## PostgreSQL: how many queries find their procedure in the first three (90% at least).
search-eval: build
	scripts/search-eval.sh

## Load figures: a release build over a million synthetic dossiers, wrk and pgbench (see docs/performance.md).
bench:
	scripts/bench.sh

## Fuzz the parsers of untrusted input (ID numbers, phones, tax codes, VietQR, signed callbacks,
## dossier codes) for FUZZ_SECONDS each (nightly toolchain and cargo-fuzz; installed when missing).
fuzz:
	scripts/fuzz.sh

clean:
	$(CARGO) clean
	rm -rf data
