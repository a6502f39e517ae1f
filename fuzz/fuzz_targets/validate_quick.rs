//! Raw bytes as the waPC `validate` payload, with the host's checks alone: the
//! call answers with a ValidationResponse the host can parse. The policy runs
//! once per input and no `Value` of the payload is built, where
//! `validate_payload` runs it three or four times and compares each answer with
//! serde_json's reading, so this target tries several times more inputs per
//! second for a panic, a debug assertion, a trap or a memory error.
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/invariants/mod.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    invariants::host_reads_answer(data);
});
