//! Raw bytes as the waPC `validate` payload: whatever arrives, the policy must
//! answer (accept, reject or mutate) and never panic or fail the call, since a
//! trap or a call error is an HTTP 500 for the API server.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let response = cainjector::validate(data).expect("validate must always answer");
    let response: Value =
        serde_json::from_slice(&response).expect("the answer is a ValidationResponse");
    assert!(
        response.get("accepted").is_some_and(Value::is_boolean),
        "{response}"
    );
});
