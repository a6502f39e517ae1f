//! The host side of waPC against hand-written guests: what the module receives and
//! how each kind of answer becomes an AdmissionResponse.

mod common;

use std::sync::{Arc, Mutex};

use common::{OnValidate, POD_CREATE_UID, SETTINGS_VALID, module_wasm};
use policy_runner::{
    callbacks::{Capability, CapabilityResult, HostCallbacks},
    check_settings, evaluate,
    policy::{EngineOptions, Policy},
    read_request,
    request::AdmissionRequest,
    response::AdmissionResponse,
};
use serde_json::{Map, Value};

const NO_CACHE: EngineOptions = EngineOptions {
    wasmtime_cache: false,
    verbose: false,
    perf_map: false,
};

fn policy(settings_answer: &str, on_validate: &OnValidate<'_>) -> Policy {
    Policy::from_bytes(
        &module_wasm(settings_answer, on_validate),
        HostCallbacks::new(false),
        NO_CACHE,
    )
    .unwrap()
}

fn pod_create() -> AdmissionRequest {
    read_request(common::pod_create_request().to_str().unwrap()).unwrap()
}

fn settings(json: &str) -> Map<String, Value> {
    serde_json::from_str(json).unwrap()
}

fn response_json(response: &AdmissionResponse) -> String {
    serde_json::to_string(response).unwrap()
}

/// Keeps what the module sent to the host.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<u8>>>);

impl Capability for Recorder {
    fn call(&self, _operation: &str, payload: &[u8]) -> CapabilityResult {
        *self.0.lock().unwrap() = payload.to_vec();
        Ok(Vec::new())
    }
}

#[test]
fn module_receives_the_request_as_kwctl_reserialises_it() {
    let recorder = Recorder::default();
    let mut callbacks = HostCallbacks::new(false);
    callbacks.register("capture", recorder.clone());
    let module = module_wasm(
        SETTINGS_VALID,
        &OnValidate::ForwardPayload {
            namespace: "capture",
            operation: "payload",
            answer: r#"{"accepted":true}"#,
        },
    );
    let policy = Policy::from_bytes(&module, callbacks, NO_CACHE).unwrap();

    let response = policy.validate(
        &pod_create(),
        &settings(r#"{"secret":"bundle","certFile":"ca.crt"}"#),
    );
    assert!(response.allowed);

    // Unknown and null fields dropped (oldObject, options), every object's keys sorted.
    let expected = concat!(
        r#"{"request":{"dryRun":false,"kind":{"group":"","kind":"Pod","version":"v1"},"#,
        r#""name":"web","namespace":"team-a","#,
        r#""object":{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"web"},"name":"web","namespace":"team-a"},"#,
        r#""spec":{"containers":[{"env":[{"name":"MODE","value":"prod"}],"image":"nginx:1.27","name":"web"}]}},"#,
        r#""operation":"CREATE","requestKind":{"group":"","kind":"Pod","version":"v1"},"#,
        r#""requestResource":{"group":"","resource":"pods","version":"v1"},"#,
        r#""resource":{"group":"","resource":"pods","version":"v1"},"#,
        r#""uid":"1299d386-525b-4032-98ae-1949f69f9cfc","#,
        r#""userInfo":{"groups":["system:masters","system:authenticated"],"username":"kubernetes-admin"}},"#,
        r#""settings":{"certFile":"ca.crt","secret":"bundle"}}"#
    );
    assert_eq!(
        String::from_utf8(recorder.0.lock().unwrap().clone()).unwrap(),
        expected
    );
}

#[test]
fn a_trap_is_an_internal_server_error() {
    let response = policy(SETTINGS_VALID, &OnValidate::Trap).validate(&pod_create(), &Map::new());
    assert!(!response.allowed);
    let status = response.status.unwrap();
    assert_eq!(status.code, Some(500));
    let message = status.message.unwrap();
    // wasmtime's text for a trap is its wasm backtrace; the trap kind is only in the
    // error's cause chain, which waPC does not print.
    assert!(
        message.starts_with(
            "internal server error: Guest call failure: error while executing at wasm backtrace:\n"
        ),
        "{message}"
    );
    assert!(message.contains("<unknown>!<wasm function 4>"), "{message}");
    assert_eq!(response.patch, None);
}

#[test]
fn a_guest_error_is_an_internal_server_error() {
    let response = policy(
        SETTINGS_VALID,
        &OnValidate::GuestError("cannot decode request"),
    )
    .validate(&pod_create(), &Map::new());
    assert_eq!(
        response_json(&response),
        format!(
            r#"{{"uid":"{POD_CREATE_UID}","allowed":false,"status":{{"message":"internal server error: Guest call failure: cannot decode request","code":500}},"auditAnnotations":null,"warnings":null}}"#
        )
    );
}

#[test]
fn a_garbage_answer_is_an_internal_server_error() {
    let response = policy(SETTINGS_VALID, &OnValidate::Answer("not json"))
        .validate(&pod_create(), &Map::new());
    assert_eq!(
        response_json(&response),
        format!(
            r#"{{"uid":"{POD_CREATE_UID}","allowed":false,"status":{{"message":"internal server error: invalid response from policy: expected ident at line 1 column 2","code":500}},"auditAnnotations":null,"warnings":null}}"#
        )
    );
}

#[test]
fn an_answer_of_the_wrong_shape_is_an_internal_server_error() {
    let response = policy(SETTINGS_VALID, &OnValidate::Answer(r#"{"allowed":true}"#))
        .validate(&pod_create(), &Map::new());
    assert_eq!(
        response.status.unwrap().message.unwrap(),
        "internal server error: invalid response from policy: missing field `accepted` at line 1 column 16"
    );
}

#[test]
fn a_mutation_is_answered_with_the_diff_against_the_received_object() {
    // Keys written unsorted on purpose: the operations still come in sorted order.
    let answer = r#"{"accepted":true,"mutated_object":{"spec":{"volumes":[{"name":"ca"}],"containers":[{"name":"web","image":"nginx:1.27","env":[{"name":"MODE","value":"prod"}]}]},"metadata":{"name":"web","namespace":"team-a","labels":{"app":"web"}},"kind":"Pod","apiVersion":"v1","zz":1}}"#;
    let response =
        policy(SETTINGS_VALID, &OnValidate::Answer(answer)).validate(&pod_create(), &Map::new());
    let patch = base64_decode(response.patch.as_deref().unwrap());
    assert_eq!(
        patch,
        r#"[{"op":"add","path":"/spec/volumes","value":[{"name":"ca"}]},{"op":"add","path":"/zz","value":1}]"#
    );
    assert!(response_json(&response).starts_with(&format!(
        r#"{{"uid":"{POD_CREATE_UID}","allowed":true,"patchType":"JSONPatch","patch":""#
    )));
}

#[test]
fn a_mutation_of_a_delete_is_refused() {
    let request = read_request(
        common::pod_create_request()
            .with_file_name("pod_delete_request.json")
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let response = policy(
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true,"mutated_object":{"a":1}}"#),
    )
    .validate(&request, &Map::new());
    assert_eq!(
        response_json(&response),
        r#"{"uid":"7e0a6b4e-delete","allowed":false,"status":{"message":"Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed"},"auditAnnotations":null,"warnings":null}"#
    );
}

#[test]
fn refused_settings_stop_the_evaluation_with_kwctls_error() {
    let policy = policy(
        r#"{"valid":false,"message":"configMap: not a valid name"}"#,
        &OnValidate::Trap,
    );
    let err = evaluate(&policy, &pod_create(), &Map::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Provided settings are not valid: configMap: not a valid name"
    );
}

#[test]
fn unreadable_settings_answers_are_refusals_worded_as_upstream() {
    let policy = policy("nope", &OnValidate::Trap);
    let err = check_settings(&policy, &Map::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Provided settings are not valid: error: InvalidResponseWithError(Error(\"expected ident\", line: 1, column: 2))"
    );
}

#[test]
fn a_host_call_the_runner_does_not_answer_reaches_the_guest_as_an_error() {
    // The guest ignores the host call's result; the call must not disturb the answer.
    let policy = Policy::from_bytes(
        &module_wasm(
            SETTINGS_VALID,
            &OnValidate::ForwardPayload {
                namespace: "kubernetes",
                operation: "get_resource",
                answer: r#"{"accepted":true}"#,
            },
        ),
        HostCallbacks::new(false),
        NO_CACHE,
    )
    .unwrap();
    let response = policy.validate(&pod_create(), &Map::new());
    assert!(response.allowed);
}

fn base64_decode(text: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
    .unwrap()
}
