# Klucznik: `make run` starts the whole system on this machine; `make test` runs every check.
SHELL := /bin/bash
TOOLS ?= $(CURDIR)/.local/tools
export PATH := $(TOOLS)/venv/bin:$(PATH)
export KLUCZNIK_TEST_NATS_SERVER ?= $(TOOLS)/venv/bin/nats-server
export KLUCZNIK_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test fmt-check lint deny build test-rust deploy-check schemas bench deps chaos

run:
	bash scripts/run-local.sh

deps:
	bash scripts/ensure-deps.sh

# Installs and starts what the tests need first (PostgreSQL, a current nats-server, the
# SMTP server, the manifest validators, qpdf/poppler): a fresh machine needs nothing else.
test: deps fmt-check lint deny deploy-check test-rust

fmt-check:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings

# The e2e tests start the real service binaries, so build them first.
build:
	cargo build --workspace --bins

# Ends with one line of totals over every test binary.
test-rust: build
	@mkdir -p .local
	set -o pipefail; cargo test --workspace 2>&1 | tee .local/test-output.log
	@awk '/^test result:/ {p+=$$4; f+=$$6} END {print "tests: " p " passed, " f " failed"}' .local/test-output.log

# The fault-injection suite, longer than `make test`'s round: 40 cases of procedure A, 6
# accounts of procedure C and 12 revocations (procedure D) under random SIGKILLs, SIGSTOPs,
# PostgreSQL crashes and NATS node restarts.
# It prints its seed; KLUCZNIK_CHAOS_SEED=<seed> make chaos draws the same faults again.
chaos: deps build
	KLUCZNIK_CHAOS_CASES=$${KLUCZNIK_CHAOS_CASES:-40} \
	KLUCZNIK_CHAOS_REVOCATIONS=$${KLUCZNIK_CHAOS_REVOCATIONS:-12} \
	KLUCZNIK_CHAOS_ACCOUNTS=$${KLUCZNIK_CHAOS_ACCOUNTS:-6} \
	KLUCZNIK_CHAOS_STAGGER_MS=$${KLUCZNIK_CHAOS_STAGGER_MS:-2000} \
	cargo test -p e2e --test chaos -- --include-ignored --nocapture

# Licences and duplicate versions of the dependencies (deny.toml).
deny:
	$(TOOLS)/cargo/bin/cargo-deny check licenses bans

deploy-check:
	bash deploy/validate.sh

# The bus (AsyncAPI and JSON Schemas) from the contract types; each service's HTTP API
# (OpenAPI 3.1) from its handlers, as `<service> openapi` prints it.
OPENAPI_SERVICES := intake accounts delivery revocation audit

schemas:
	cargo run -q -p contracts --bin gen-schemas
	@mkdir -p proto-schemas/openapi
	@set -e; for service in $(OPENAPI_SERVICES); do \
		out=proto-schemas/openapi/$$service.json; \
		cargo run -q -p $$service -- openapi > $$out.tmp || { rm -f $$out.tmp; exit 1; }; \
		mv $$out.tmp $$out; \
		echo "wrote $$out"; \
	done

# Release binaries against a fresh nats-server and PostgreSQL; prints figures.
bench:
	cargo build --workspace --bins
	cargo build --release --workspace --bins
	./target/release/klucznik-bench all
