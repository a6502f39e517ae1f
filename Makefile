# cainjector: build, test and run the Kubewarden policy module.
SHELL := /bin/bash
.DEFAULT_GOAL := policy.wasm

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
POLICY_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock
RUNNER_SOURCES := $(shell find runner/src -name '*.rs') runner/Cargo.toml Cargo.lock
RUNNER := target/runner/policy-runner
# e2e.bats runs `$KWCTL run ...`: the real kwctl when installed, else our runner.
KWCTL ?= $(or $(shell command -v kwctl 2>/dev/null),$(CURDIR)/$(RUNNER))
REQUEST ?= test_data/pod-realistic.json
SETTINGS ?= policy-settings/default.yaml

# wasm-opt -Oz (Debian's binaryen) takes 15% off the module; without it the
# module is only larger, so its absence is not an error.
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals
policy.wasm: $(POLICY_SOURCES)
	cargo build --release --target wasm32-wasip1 -p cainjector
	@if command -v wasm-opt >/dev/null; then \
		wasm-opt $(WASM_OPT_FLAGS) target/wasm32-wasip1/release/cainjector.wasm -o policy.wasm; \
	else \
		echo "wasm-opt not found (apt-get install binaryen): policy.wasm is not size-optimised"; \
		cp target/wasm32-wasip1/release/cainjector.wasm policy.wasm; \
	fi

$(RUNNER): $(RUNNER_SOURCES)
	cargo build -p policy-runner --profile runner

.PHONY: runner
runner: $(RUNNER)

.PHONY: fmt
fmt:
	cargo fmt --all -- --check

.PHONY: lint
lint:
	cargo clippy --workspace --all-targets -- -D warnings

# The runner is tested in its own (optimised) profile: a debug build of
# wasmtime would be compiled a second time and run slowly. Its real-policy tests
# need policy.wasm.
.PHONY: unit-tests
unit-tests: policy.wasm
	cargo test --workspace --exclude policy-runner
	cargo test -p policy-runner --profile runner

.PHONY: e2e-tests
e2e-tests: policy.wasm $(if $(findstring $(RUNNER),$(KWCTL)),$(RUNNER))
	KWCTL="$(KWCTL)" bats e2e.bats

# policy.wasm must stay within the size budget (it drives policy-server start-up).
SIZE_BUDGET := 400000
.PHONY: size-check
size-check: policy.wasm
	@size=$$(stat -c %s policy.wasm); \
	if [ $$size -gt $(SIZE_BUDGET) ]; then echo "policy.wasm is $$size bytes, over the $(SIZE_BUDGET)-byte budget"; exit 1; fi; \
	echo "policy.wasm: $$size bytes (budget $(SIZE_BUDGET))"

.PHONY: test
test: fmt lint unit-tests e2e-tests size-check

BASELINE := target/wasm32-wasip1/release/baseline_policy.wasm
$(BASELINE): benches/baseline-policy/src/lib.rs benches/baseline-policy/Cargo.toml Cargo.lock
	cargo build --release --target wasm32-wasip1 -p baseline-policy

# Speed against the do-nothing baseline; see BENCHMARKS.md. Not part of `make test`.
.PHONY: bench
bench: policy.wasm $(BASELINE) $(RUNNER)
	RUNNER=$(RUNNER) BASELINE=$(BASELINE) benches/compare.sh

# Run the policy on a realistic pod and show the answer and the decoded patch.
.PHONY: run
run: policy.wasm $(RUNNER)
	@$(RUNNER) run --request-path $(REQUEST) --settings-path $(SETTINGS) policy.wasm > target/run-response.json
	@echo "== AdmissionResponse ($(REQUEST), $(SETTINGS))"
	@jq . target/run-response.json
	@echo "== decoded patch"
	@jq -r 'if .patch then (.patch | @base64d | fromjson) else "no patch" end' target/run-response.json

KWCTL_MISSING = echo "kwctl is not installed: see https://docs.kubewarden.io (Tools > kwctl) to $(1)"; exit 1

annotated-policy.wasm: policy.wasm metadata.yml README.md
	@command -v kwctl >/dev/null || { $(call KWCTL_MISSING,annotate the policy); }
	kwctl annotate -m metadata.yml -u README.md -o annotated-policy.wasm policy.wasm

.PHONY: artifacthub-pkg.yml
artifacthub-pkg.yml: metadata.yml questions-ui.yml Cargo.toml
	@command -v kwctl >/dev/null || { $(call KWCTL_MISSING,scaffold artifacthub-pkg.yml); }
	kwctl scaffold artifacthub --metadata-path metadata.yml --version $(VERSION) \
		--questions-path questions-ui.yml --output artifacthub-pkg.yml

# Fuzz both targets (nightly and cargo-fuzz; see fuzz/README.md).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && ./seed-corpus.sh
	cd fuzz && cargo +nightly fuzz run validate_payload corpus/validate_payload -- \
		-dict=payload.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1
	cd fuzz && cargo +nightly fuzz run mutation corpus/mutation -- \
		-max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1

.PHONY: clean
clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm
