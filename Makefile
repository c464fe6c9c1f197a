# Junction build. `make start` installs, builds and runs the broker with ./data;
# `make test` builds (and the C test tools), runs the Rust crate's unit tests (cargo test), then every test suite;
# `make package-check` packs, installs the tarball in an empty folder and starts it;
# `make bench` runs the micro-benchmarks (short sizes; `make bench BENCH="--full"` or
# BENCH="codec topic-trie" passes runner flags).
NPM ?= npm
NODE ?= node
BENCH ?=

.PHONY: all install build native ts start test bench package-check clean test-tools test-node-tcp

all: build

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json

native:
	$(MAKE) -C native

ts: install
	npx tsc -p tsconfig.json
	npx tsc -p tsconfig.test.json

build: install native ts

start: build
	$(NODE) dist/src/cli/main.js start

# Test helpers in C: librdkafka's mock Kafka cluster (needs librdkafka-dev; .ci/run installs it).
tools/kafka-mock/kafka-mock: tools/kafka-mock/kafka-mock.c
	$(CC) -O2 -Wall -Wextra -o $@ $< -lrdkafka

tools/connstorm/connstorm: tools/connstorm/connstorm.c
	$(CC) -O2 -Wall -Wextra -o $@ $<

test-tools: tools/kafka-mock/kafka-mock tools/connstorm/connstorm

test: build test-tools
	$(MAKE) -C native test
	$(NODE) scripts/run-tests.mjs

# The suites that start broker processes, once more over node:net (the default, auto, runs the
# native TCP transport when the module is built; JUNCTION_TEST_TCP_TRANSPORT=node adds
# --tcp-transport node to every broker they start).
test-node-tcp: build test-tools
	JUNCTION_TEST_TCP_TRANSPORT=node $(NODE) scripts/run-tests.mjs test/interop/ test/protocols/ test/reliability/ test/gateway/ test/security/interop

# npm pack, then install the tarball in an empty folder without Rust and start it (CI runs it).
package-check: install
	$(NODE) scripts/package-check.mjs

bench: build
	$(NODE) dist/bench/micro/main.js $(BENCH)

clean:
	rm -rf dist build native/target native/junction.node tools/kafka-mock/kafka-mock tools/connstorm/connstorm
