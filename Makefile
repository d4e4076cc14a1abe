# refex — the two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
DEV := .dev
CONFIG := $(DEV)/refex.json

.PHONY: all deps build release dev run test fuzz bench clean

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

run: dev
	@scripts/dev-setup.sh --print-curl $(DEV)
	@scripts/dev-run.sh $(DEV)

# Builds once, then runs every test once. The end-to-end tests start the built binary.
test:
	@scripts/install-deps.sh test
	$(SWIFT) build --build-tests
	REFEX_BINARY=$(CURDIR)/.build/debug/refex $(SWIFT) test --skip-build --parallel --num-workers 2

fuzz:
	@scripts/install-deps.sh build
	scripts/fuzz.sh $(FUZZ_ARGS)

bench:
	@scripts/install-deps.sh bench
	$(SWIFT) build -c release --static-swift-stdlib
	scripts/bench.sh $(BENCH_ARGS)

clean:
	rm -rf .build $(DEV)
