# cainjector: build, test and run the Kubewarden policy module.
SHELL := /bin/bash
.DEFAULT_GOAL := policy.wasm

POLICY_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock
RUNNER_SOURCES := $(shell find runner/src -name '*.rs') runner/Cargo.toml Cargo.lock
RUNNER := target/runner/policy-runner
# e2e.bats runs `$KWCTL run ...` on POLICY: the real kwctl when installed, else our
# runner. CI and the release also run it on the annotated module with the real kwctl
# (POLICY=annotated-policy.wasm KWCTL=kwctl).
KWCTL ?= $(or $(shell command -v kwctl 2>/dev/null),$(CURDIR)/$(RUNNER))
POLICY ?= policy.wasm
# The Kubewarden release whose kwctl and policy-server CI and the release workflow
# test with (the kwctl-installer action's kwctl-version, the policy-server image's
# tag): stated here only; the workflows read it with `make -s kubewarden-version`.
KUBEWARDEN_VERSION := v1.36.0
REQUEST ?= test_data/pod-realistic.json
SETTINGS ?= policy-settings/default.yaml

# What each command needs that a fresh machine lacks is installed first, before
# any long build (scripts/tools.sh: rustup for the target, apt-get as root for
# the packages; otherwise it stops and says what to install).
.PHONY: build-tools run-tools test-tools trust-matrix-tools
build-tools:
	@scripts/tools.sh wasm-target wasm-opt
run-tools: build-tools
	@scripts/tools.sh jq
test-tools: build-tools
	@scripts/tools.sh components jq bats
trust-matrix-tools: build-tools
	@scripts/tools.sh trust-matrix

# wasm-opt -O3 (binaryen) takes 13% off the module and 6% off its work per call
# (BENCHMARKS.md). It is always used, so that
# policy.wasm is the same module whatever was installed when it was built.
WASM_OPT_FLAGS := -O3 --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals
policy.wasm: $(POLICY_SOURCES) | build-tools
	cargo build --locked --release --target wasm32-wasip1 -p cainjector
	wasm-opt $(WASM_OPT_FLAGS) target/wasm32-wasip1/release/cainjector.wasm -o policy.wasm

$(RUNNER): $(RUNNER_SOURCES)
	cargo build --locked -p policy-runner --profile runner

.PHONY: runner
runner: $(RUNNER)

.PHONY: fmt
fmt: test-tools
	cargo fmt --all -- --check

.PHONY: lint
lint:
	cargo clippy --locked --workspace --all-targets -- -D warnings

# The runner is tested in its own (optimised) profile: a debug build of
# wasmtime would be compiled a second time and run slowly. Its real-policy tests
# need policy.wasm.
.PHONY: unit-tests
unit-tests: policy.wasm
	cargo test --locked --workspace --exclude policy-runner
	cargo test --locked -p policy-runner --profile runner

.PHONY: e2e-tests
e2e-tests: test-tools $(POLICY) $(if $(findstring $(RUNNER),$(KWCTL)),$(RUNNER))
	KWCTL="$(KWCTL)" POLICY="$(POLICY)" bats e2e.bats

# The module through a real OCI registry and a real policy-server that pulls it from
# there (e2e-registry.bats): Debian's docker-registry on 127.0.0.1, or the registry
# already serving at REGISTRY=host:port (CI's registry service). Needs kwctl and
# policy-server on PATH (scripts/tools.sh says where to get them); not part of
# `make test`, CI runs it.
REGISTRY ?=
.PHONY: e2e-registry-tools e2e-registry
e2e-registry-tools: test-tools
	@KUBEWARDEN_VERSION=$(KUBEWARDEN_VERSION) scripts/tools.sh kwctl policy-server $(if $(REGISTRY),,docker-registry)
e2e-registry: e2e-registry-tools annotated-policy.wasm
	REGISTRY="$(REGISTRY)" bats e2e-registry.bats

.PHONY: kubewarden-version
kubewarden-version:
	@echo $(KUBEWARDEN_VERSION)

# policy.wasm must stay within the size budget (it drives policy-server start-up).
SIZE_BUDGET := 400000
.PHONY: size-check
size-check: policy.wasm
	@size=$$(stat -c %s policy.wasm); \
	if [ $$size -gt $(SIZE_BUDGET) ]; then echo "policy.wasm is $$size bytes, over the $(SIZE_BUDGET)-byte budget"; exit 1; fi; \
	echo "policy.wasm: $$size bytes (budget $(SIZE_BUDGET))"

# The trust matrix (docs/trust-matrix.md): real TLS clients (openssl, curl, wget, Python,
# Node.js, Java, Go, Ruby, PHP) against a loopback server whose certificate a test CA
# issued, each run in the container the policy returns under each settings variant,
# run by runc from its OCI spec over an overlay of the machine's root (so: as root).
# Fails when a client cannot run or the measured table differs from the docs'; UPDATE=1
# rewrites it.
UPDATE =
.PHONY: trust-matrix
trust-matrix: trust-matrix-tools policy.wasm $(RUNNER)
	/usr/bin/python3 -m unittest discover -s tests/trust-matrix -p 'test_*.py'
	/usr/bin/python3 tests/trust-matrix/matrix.py --runner $(RUNNER) --policy policy.wasm \
		--docs docs/trust-matrix.md $(if $(UPDATE),--update)

# The GitHub workflows: actionlint (shellcheck on their run: scripts) and zizmor
# in its strictest persona, offline, from the pinned .venv (scripts/tools.sh).
.PHONY: workflow-lint
workflow-lint:
	@scripts/tools.sh workflow-lint
	.venv/bin/actionlint -shellcheck .venv/bin/shellcheck
	.venv/bin/zizmor --offline --persona=pedantic .github/

# The fuzz targets include tests/common, tests/generators and tests/invariants by
# path, outside any workspace `make lint` sees: a check build of them (pinned stable
# toolchain, no cargo-fuzz, no sanitizer) stops a change to a shared helper from
# breaking them unseen. libfuzzer-sys's build script compiles libFuzzer (C++).
.PHONY: fuzz-check
fuzz-check:
	@scripts/tools.sh c++
	cd fuzz && cargo check --locked --bins

.PHONY: test
test: test-tools trust-matrix-tools fmt lint fuzz-check unit-tests e2e-tests size-check workflow-lint trust-matrix

# The floor: the SDK decodes the request and the object goes back unchanged, built
# for speed ([profile.floor]: opt-level 3, LTO, one codegen unit), then through
# wasm-opt -O3 as policy.wasm is (4% less work per call).
BASELINE := target/floor.wasm
$(BASELINE): benches/baseline-policy/src/lib.rs benches/baseline-policy/Cargo.toml Cargo.toml Cargo.lock | build-tools
	cargo build --locked --profile floor --target wasm32-wasip1 -p baseline-policy
	wasm-opt $(WASM_OPT_FLAGS) target/wasm32-wasip1/floor/baseline_policy.wasm -o $(BASELINE)

# Speed against the floor, timed as `kwctl bench` times it (minimum over ROUNDS
# alternating rounds), then instructions per call under callgrind, which the
# machine's load does not change; see BENCHMARKS.md. Not part of `make test`.
# BENCH="kwctl bench" times the same rounds with a real kwctl; CHECK="kwctl bench"
# times each round with it too, to compare the runner with it.
.PHONY: bench bench-time bench-instructions
bench: bench-time bench-instructions
bench-time: policy.wasm $(BASELINE) $(RUNNER)
	RUNNER=$(RUNNER) BASELINE=$(BASELINE) benches/compare.sh
bench-instructions: policy.wasm $(BASELINE) $(RUNNER)
	@scripts/tools.sh valgrind
	RUNNER=$(RUNNER) BASELINE=$(BASELINE) benches/instructions.sh

# Run the policy and print its answer for a person: accepted or rejected with the
# message, and for a mutation each JSONPatch operation and the changed part of
# the object as YAML (runner/README.md, `--output human`).
#   make run                                   the realistic pod request (REQUEST)
#   make run REQUEST=req.json                  an AdmissionRequest or AdmissionReview (JSON)
#   make run POD=pod.yaml [NAMESPACE=team-a] [OPERATION=UPDATE] [SETTINGS=s.yaml]
#                                              a manifest (YAML or JSON: a Pod, a workload,
#                                              any object), sent as the AdmissionRequest
#                                              `kwctl scaffold admission-request` builds
# POD, NAMESPACE and OPERATION are set only on the command line (plain `=`): a
# NAMESPACE exported in the shell must not change the request.
POD =
NAMESPACE =
OPERATION =
RUN_INPUT = $(if $(POD),--object $(POD)$(if $(NAMESPACE), --namespace $(NAMESPACE))$(if $(OPERATION), --operation $(OPERATION)),--request-path $(REQUEST))
.PHONY: run
run: run-tools policy.wasm $(RUNNER)
	@echo "== $(if $(POD),$(or $(OPERATION),CREATE) $(POD)$(if $(NAMESPACE), in namespace $(NAMESPACE)),$(REQUEST)), settings $(SETTINGS)"
	@$(RUNNER) run $(RUN_INPUT) --settings-path $(SETTINGS) --output human policy.wasm

KWCTL_MISSING = echo "kwctl is not installed: see https://docs.kubewarden.io (Tools > kwctl) to $(1)"; exit 1

annotated-policy.wasm: policy.wasm metadata.yml README.md
	@command -v kwctl >/dev/null || { $(call KWCTL_MISSING,annotate the policy); }
	kwctl annotate -m metadata.yml -u README.md -o annotated-policy.wasm policy.wasm

# Generated by the release and published on the artifacthub branch, not
# committed: kwctl takes the version from io.kubewarden.policy.version.
.PHONY: artifacthub-pkg.yml
artifacthub-pkg.yml: metadata.yml questions-ui.yml
	@command -v kwctl >/dev/null || { $(call KWCTL_MISSING,scaffold artifacthub-pkg.yml); }
	kwctl scaffold artifacthub --metadata-path metadata.yml \
		--questions-path questions-ui.yml --output artifacthub-pkg.yml

# Fuzz the four targets with AddressSanitizer (cargo-fuzz on the pinned stable
# toolchain: RUSTC_BOOTSTRAP=1 lets it pass its unstable flags; see fuzz/README.md).
# validate_quick explores first (a quarter of the work per input); validate_payload
# then starts from what it found, with every check.
FUZZ_SECONDS ?= 60
FUZZ := RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer address
.PHONY: fuzz
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz@0.13.2 --locked
	cd fuzz && ./seed-corpus.sh
	cd fuzz && $(FUZZ) validate_quick corpus/validate_quick corpus/validate_payload regressions/validate_payload -- \
		-dict=payload.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1
	cd fuzz && $(FUZZ) validate_payload corpus/validate_payload corpus/validate_quick regressions/validate_payload -- \
		-dict=payload.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1
	cd fuzz && $(FUZZ) mutation corpus/mutation -- \
		-max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1
	cd fuzz && $(FUZZ) java_store corpus/java_store -- \
		-max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1

.PHONY: clean
clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm
