//! Raw bytes as the waPC `validate` payload: whatever arrives, the policy must
//! answer (accept, reject or mutate) with a response the host can parse, and
//! never panic or fail the call, since a trap or a call error is an HTTP 500
//! for the API server. When it mutates, the mutation is checked as the
//! `mutation` target checks it, but on text as the fuzzer wrote it (spacing,
//! escapes, duplicate keys, number spellings), which the policy edits in place.
//! The payload must be read as serde_json reads it: refused with its message
//! when it is not JSON, else answered as its `Value` is (the last of
//! duplicate keys winning).
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/invariants/mod.rs"]
mod invariants;

use common::Verdict;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The object as the host reads it (serde_json: the last duplicate key wins),
/// against the policy's mutation of its text.
fn check_mutation(data: &[u8], result: &Value) {
    // A number out of range where the policy never reads (userInfo) fails a
    // full parse only; the object itself was checked through the response.
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Mutated, so an object with a request.
    let request = &payload["request"];
    let settings = payload.get("settings").cloned().unwrap_or(Value::Null);
    let group = request.pointer("/kind/group").and_then(Value::as_str);
    let kind = request.pointer("/kind/kind").and_then(Value::as_str);
    let spec_at = invariants::spec_pointer(group.unwrap_or(""), kind.unwrap_or(""))
        .expect("a kind the policy mutates");
    let prefix = settings
        .get("annotationPrefix")
        .and_then(Value::as_str)
        .unwrap_or("cainjector.lestak.sh");
    invariants::check_additions(&request["object"], result, spec_at, prefix);
    let mut again = request.clone();
    again["object"] = result.clone();
    assert_eq!(
        common::run(&again, settings),
        Verdict::Accept,
        "a second run on the result changed it"
    );
}

fuzz_target!(|data: &[u8]| {
    invariants::host_reads_answer(data);
    let (_, verdict) = invariants::verdict_read_as_serde_json_reads(data);
    match verdict {
        Verdict::Mutate(result) | Verdict::MutateWarn(result, _) => check_mutation(data, &result),
        Verdict::Reject(message) => assert!(
            !message.starts_with("the mutated object is not JSON"),
            "{message}"
        ),
        _ => {}
    }
});
