#!/usr/bin/env bash
# Compares two builds of the policy answer for answer on a generated corpus:
#   scripts/answer-corpus.sh ORIGINAL.wasm [NEW.wasm (default policy.wasm)]
# The corpus (tests/properties.rs, write_answer_corpus: CORPUS_CASES cases, default
# 3000, each with variants) is written once into target/answer-corpus/; each module's
# answers (the whole waPC answer, hashed, and its start) are written next to it, and
# the two lists must be identical.
set -euo pipefail
cd "$(dirname "$0")/.."
original=$(realpath "$1")
new=$(realpath "${2:-policy.wasm}")
dir=$PWD/target/answer-corpus
mkdir -p "$dir"
if [ ! -s "$dir/payloads" ]; then
	CORPUS_OUT="$dir/payloads" cargo test --locked --test properties -- --ignored --exact write_answer_corpus
fi
answers() {
	CORPUS="$dir/payloads" POLICY="$1" ANSWERS="$2" \
		cargo test --locked -p policy-runner --profile runner --test answer_corpus -- --ignored
}
answers "$original" "$dir/original"
answers "$new" "$dir/new"
echo "$(wc -l <"$dir/payloads") payloads; answers by kind (original):"
cut -d' ' -f2,5 "$dir/original" | sed 's/{"accepted":true,"message":null,"code":null,"mutated_object":null.*/accept/; s/{"accepted":true,"message":null,"code":null,"mutated_object":.*/mutate/; s/{"accepted":false.*/reject/; s/{"accepted":true.*/accept/; s/{"valid":true.*/settings-valid/; s/{"valid":false.*/settings-invalid/' | sort | uniq -c
if cmp -s "$dir/original" "$dir/new"; then
	echo "identical answers"
else
	diff "$dir/original" "$dir/new" | head -20
	echo "answers differ ($(diff "$dir/original" "$dir/new" | grep -c '^<') lines)"
	exit 1
fi
