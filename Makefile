# refex — the two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
DEV := .dev
CONFIG := $(DEV)/refex.json

.PHONY: all deps build release dev run run-postgres test console-shots fuzz bench bench-all bench-schema bench-intake bench-intake-peers bench-intake-stores bench-delivery bench-log bench-console bench-release install clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --static-swift-stdlib

# A development setup under .dev/: a PKI and a config. Idempotent.
dev: release
	@scripts/dev-setup.sh $(DEV)

# STORE=postgres: two nodes on a throwaway PostgreSQL under .dev/postgres (as make run-postgres).
run: dev
	@scripts/dev-setup.sh --print-curl $(DEV)
	@if [ "$(STORE)" = postgres ]; then scripts/install-deps.sh test && scripts/dev-run-postgres.sh $(DEV); else scripts/dev-run.sh $(DEV); fi

run-postgres:
	@$(MAKE) --no-print-directory run STORE=postgres

# Builds once, then runs every test once (the end-to-end tests start the built binary), and ends
# with one line, `N passed, M failed`, counting XCTest and Swift Testing; exits non-zero on a failure.
# TEST_ARGS go to swift test, e.g. make test TEST_ARGS="--filter HelpTests".
test:
	@scripts/install-deps.sh test
	@scripts/test-tools.sh
	$(SWIFT) build --build-tests
	@SWIFT="$(SWIFT)" REFEX_BINARY=$(CURDIR)/.build/debug/refex scripts/run-tests.sh $(TEST_ARGS)

# Screenshots of every console page in headless Chromium, under .dev/console-shots/ (not part of
# `make test`): the browser test that visits each page, asked to save them.
console-shots:
	@scripts/install-deps.sh test
	@scripts/test-tools.sh
	$(SWIFT) build --build-tests
	rm -rf $(DEV)/console-shots && mkdir -p $(DEV)/console-shots
	REFEX_CONSOLE_SHOTS=$(CURDIR)/$(DEV)/console-shots REFEX_BINARY=$(CURDIR)/.build/debug/refex \
	  $(SWIFT) test --skip-build --filter ConsoleBrowserTests/testAxeFindsNoSeriousOrCriticalViolationOnAnyPage
	@ls $(DEV)/console-shots

fuzz:
	@scripts/install-deps.sh build
	scripts/fuzz.sh $(FUZZ_ARGS)

# Benchmarks (see BENCHMARKS.md); not part of `make test`. `make bench` is the HTTP server beside
# nginx; each other issue's benchmark has its own target, and `make bench-all` runs them in turn.
bench-release:
	@scripts/install-deps.sh bench
	$(SWIFT) build -c release --static-swift-stdlib

bench: bench-release
	scripts/bench.sh $(BENCH_ARGS)

bench-schema:
	@scripts/install-deps.sh bench
	scripts/bench-schema.sh

bench-intake: bench-release
	scripts/bench-intake.sh

# Issue 17: refex beside the Python peer and the storage program (about 12 minutes; BENCH_ARGS=--quick for a smoke test).
bench-intake-peers: bench-release
	scripts/bench-intake-peers.sh $(BENCH_ARGS)

# Issue 15: SQLite beside PostgreSQL with one and two nodes (about 3 minutes; BENCH_ARGS=--quick for a smoke test).
bench-intake-stores: bench-release
	scripts/bench-intake-stores.sh $(BENCH_ARGS)

# SQLite with one node, then PostgreSQL with two (BENCH_ARGS="--stores sqlite" for SQLite alone).
bench-delivery: bench-release
	scripts/bench-delivery.sh $(BENCH_ARGS)

bench-log: bench-release
	scripts/bench-log.sh

# Issue 16: the console's overview, log and subject pages on a log of a million entries, beside refex log list.
bench-console: bench-release
	scripts/bench-console.sh $(BENCH_ARGS)

bench-all: bench bench-schema bench-intake bench-intake-stores bench-delivery bench-log bench-console

# Installs the binary, schemas, systemd units, sysusers and tmpfiles snippets and an example config
# (see scripts/install.sh): make install PREFIX=/usr DESTDIR=/tmp/stage. Builds release first,
# unless BINARY names another build to install.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
BINARY ?= .build/release/refex

install: $(if $(filter .build/release/refex,$(BINARY)),release)
	BINARY="$(BINARY)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" DESTDIR="$(DESTDIR)" scripts/install.sh

clean:
	rm -rf .build $(DEV)
