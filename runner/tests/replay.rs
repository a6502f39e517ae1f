//! `kubernetes/get_resource` answered from a recorded session
//! (`--replay-host-capabilities-interactions`), granted by `--allow-context-aware`
//! from the metadata `annotate` embeds: what reaches the guest, byte for byte.

mod common;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Output,
    sync::Arc,
};

use common::{
    OnValidate, POD_CREATE_UID, SETTINGS_VALID, module_wasm, runner, temp_dir, text, write_module,
};
use policy_runner::{
    callbacks::HostCallbacks,
    kubernetes::{ContextAwareResource, Kubernetes},
    policy::{EngineOptions, Policy},
    replay::{CallbackRequest, RecordedResponse, Replay, parse_session},
    request::parse_request,
};
use serde_json::Map;

const GET_CA_BUNDLE: &str = r#"{"api_version":"v1","kind":"ConfigMap","name":"ca-bundle","namespace":"default","disable_cache":false}"#;

const RECORDED_REQUEST: &str = "  request: |
    !KubernetesGetResource
    api_version: v1
    kind: ConfigMap
    name: ca-bundle
    namespace: default
    disable_cache: false
    field_masks: null
";

/// A guest relaying `kubernetes/get_resource` of ConfigMap default/ca-bundle,
/// annotated with metadata granting ConfigMaps.
fn relay_module(dir: &Path) -> PathBuf {
    let module = write_module(
        dir,
        SETTINGS_VALID,
        &OnValidate::RelayHostCall {
            namespace: "kubernetes",
            operation: "get_resource",
            payload: GET_CA_BUNDLE,
        },
    );
    let metadata = dir.join("metadata.yml");
    std::fs::write(
        &metadata,
        "rules: []\nmutating: false\ncontextAwareResources:\n  - apiVersion: v1\n    kind: ConfigMap\n",
    )
    .unwrap();
    let annotated = dir.join("annotated.wasm");
    let output = runner(&[
        "annotate",
        "-m",
        metadata.to_str().unwrap(),
        "-o",
        annotated.to_str().unwrap(),
        module.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    annotated
}

fn session(dir: &Path, contents: &str) -> PathBuf {
    let path = dir.join("session.yml");
    std::fs::write(&path, contents).unwrap();
    path
}

fn run(module: &Path, extra: &[&str]) -> Output {
    let request = common::pod_create_request();
    let mut args = vec![
        "run",
        "--disable-wasmtime-cache",
        "--request-path",
        request.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(module.to_str().unwrap());
    runner(&args)
}

fn replayed(module: &Path, session: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--replay-host-capabilities-interactions",
        session.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(module, &args)
}

/// The stdout line of a module that failed with this guest error.
fn guest_failure(message: &str) -> String {
    let message = serde_json::to_string(&format!(
        "internal server error: Guest call failure: {message}"
    ))
    .unwrap();
    format!(
        r#"{{"uid":"{POD_CREATE_UID}","allowed":false,"status":{{"message":{message},"code":500}},"auditAnnotations":null,"warnings":null}}"#
    ) + "\n"
}

#[test]
fn a_recorded_success_reaches_the_guest_byte_for_byte() {
    let dir = temp_dir("replay-success");
    let module = relay_module(&dir);
    let session = session(
        &dir,
        &format!(
            "- type: Exchange\n{RECORDED_REQUEST}  response:\n    type: Success\n    payload: '{{\"accepted\":false,\"message\":\"from the session\"}}'\n"
        ),
    );
    let output = replayed(&module, &session, &["--allow-context-aware"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            r#"{{"uid":"{POD_CREATE_UID}","allowed":false,"status":{{"message":"from the session"}},"auditAnnotations":null,"warnings":null}}"#
        ) + "\n"
    );
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn a_recorded_error_reaches_the_guest_as_policy_evaluator_words_it() {
    let dir = temp_dir("replay-error");
    let module = relay_module(&dir);
    let session = session(
        &dir,
        &format!(
            "- type: Exchange\n{RECORDED_REQUEST}  response:\n    type: Error\n    message: Cannot find v1/ConfigMap named 'ca-bundle' inside of namespace 'Some(\"default\")'\n"
        ),
    );
    let output = replayed(&module, &session, &["--allow-context-aware"]);
    assert_eq!(
        text(&output.stdout),
        guest_failure(
            "Callback evaluation failure: Cannot find v1/ConfigMap named 'ca-bundle' inside of namespace 'Some(\"default\")'"
        )
    );
}

#[test]
fn another_request_than_the_recorded_one_is_a_replay_error() {
    let dir = temp_dir("replay-unexpected");
    let module = relay_module(&dir);
    let session = session(
        &dir,
        &format!(
            "- type: Exchange\n{}  response:\n    type: Success\n    payload: '{{}}'\n",
            RECORDED_REQUEST.replace("name: ca-bundle", "name: other")
        ),
    );
    let output = replayed(&module, &session, &["--allow-context-aware"]);
    assert_eq!(
        text(&output.stdout),
        guest_failure(
            "Callback evaluation failure: Replay error: unexpected request. Was expecting \
             KubernetesGetResource { api_version: \"v1\", kind: \"ConfigMap\", name: \"other\", namespace: Some(\"default\"), disable_cache: false, field_masks: None }, \
             got KubernetesGetResource { api_version: \"v1\", kind: \"ConfigMap\", name: \"ca-bundle\", namespace: Some(\"default\"), disable_cache: false, field_masks: None } instead"
        )
    );
}

#[test]
fn an_empty_session_answers_that_the_list_is_empty() {
    let dir = temp_dir("replay-empty");
    let module = relay_module(&dir);
    let session = session(&dir, "[]\n");
    let output = replayed(&module, &session, &["--allow-context-aware"]);
    assert_eq!(
        text(&output.stdout),
        guest_failure("Callback evaluation failure: the list of recorded responses is empty")
    );
}

#[test]
fn without_allow_context_aware_the_resource_is_not_granted() {
    let dir = temp_dir("replay-not-granted");
    let module = relay_module(&dir);
    let session = session(&dir, "[]\n");
    let output = replayed(&module, &session, &[]);
    assert_eq!(
        text(&output.stdout),
        guest_failure(
            "Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported."
        )
    );
}

#[test]
fn an_unannotated_module_is_granted_nothing() {
    let dir = temp_dir("replay-unannotated");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::RelayHostCall {
            namespace: "kubernetes",
            operation: "get_resource",
            payload: GET_CA_BUNDLE,
        },
    );
    let session = session(&dir, "[]\n");
    let output = replayed(&module, &session, &["--allow-context-aware", "--verbose"]);
    assert_eq!(
        text(&output.stdout),
        guest_failure(
            "Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported."
        )
    );
    assert!(
        text(&output.stderr).starts_with(
            "Policy is not annotated, access to Kubernetes resources is not allowed\n"
        )
    );
}

#[test]
fn unused_exchanges_are_reported_with_verbose() {
    let dir = temp_dir("replay-leftovers");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let exchange = format!(
        "- type: Exchange\n{RECORDED_REQUEST}  response:\n    type: Success\n    payload: '{{}}'\n"
    );
    let session = session(&dir, &exchange.repeat(2));
    let output = replayed(&module, &session, &["--verbose"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stderr),
        "Some of the recorded exchanges have not been replayed: 2 left\n"
    );
    assert_eq!(text(&replayed(&module, &session, &[]).stderr), "");
}

#[test]
fn a_missing_session_file_is_named() {
    let dir = temp_dir("replay-missing-file");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let output = replayed(&module, Path::new("/nonexistent/session.yml"), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        text(&output.stderr),
        "Error: Cannot open host capabilities interactions file \"/nonexistent/session.yml\": No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_session_that_cannot_be_read_stops_the_run() {
    let dir = temp_dir("replay-bad-file");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let session = session(
        &dir,
        "- request: '!KubernetesGetResource {}'\n  response: {type: Success, payload: ''}\n",
    );
    let output = replayed(&module, &session, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        format!(
            "Error: cannot deserialize contents of {:?}: exchange 1 (counting from 1): cannot deserialize recorded request into `CallbackRequestType`: missing field `api_version`\n",
            session
        )
    );
}

/// `bench` repeats the evaluation in one instance, as kwctl does: the session is
/// used up by the first calls and the later ones get the empty-list error.
#[test]
fn repeated_evaluations_use_the_session_up() {
    let session = parse_session(&format!(
        "- type: Exchange\n{RECORDED_REQUEST}  response:\n    type: Success\n    payload: '{{\"accepted\":true}}'\n"
    ))
    .unwrap();
    let replay = Arc::new(Replay::new(session));
    let mut callbacks = HostCallbacks::new(false);
    let granted = BTreeSet::from([ContextAwareResource {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
    }]);
    callbacks.register("kubernetes", Kubernetes::new(granted, Some(replay.clone())));
    let policy = Policy::from_bytes(
        &module_wasm(
            SETTINGS_VALID,
            &OnValidate::RelayHostCall {
                namespace: "kubernetes",
                operation: "get_resource",
                payload: GET_CA_BUNDLE,
            },
        ),
        callbacks,
        EngineOptions {
            wasmtime_cache: false,
            verbose: false,
            perf_map: false,
        },
    )
    .unwrap();
    let request =
        parse_request(&std::fs::read_to_string(common::pod_create_request()).unwrap()).unwrap();
    assert!(policy.validate(&request, &Map::new()).allowed);
    assert_eq!(replay.leftovers(), 0);
    let second = policy.validate(&request, &Map::new());
    assert_eq!(
        serde_json::to_value(&second).unwrap()["status"]["message"],
        "internal server error: Guest call failure: Callback evaluation failure: the list of recorded responses is empty"
    );
}

/// The fixtures the e2e tests replay hold one lookup of ConfigMap default/ca-bundle.
#[test]
fn the_e2e_sessions_record_the_policy_s_lookup() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test_data");
    let lookup = CallbackRequest::KubernetesGetResource {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "ca-bundle".into(),
        namespace: Some("default".into()),
        disable_cache: false,
        field_masks: None,
    };
    let read = |name: &str| {
        let mut exchanges =
            parse_session(&std::fs::read_to_string(fixtures.join(name)).unwrap()).unwrap();
        assert_eq!(exchanges.len(), 1, "{name}");
        let exchange = exchanges.remove(0);
        assert_eq!(exchange.request, lookup, "{name}");
        exchange.response
    };
    let data = |response: RecordedResponse| match response {
        RecordedResponse::Success { payload } => {
            let object: serde_json::Value = serde_json::from_str(&payload).unwrap();
            assert_eq!(object["metadata"]["name"], "ca-bundle");
            assert_eq!(object["metadata"]["namespace"], "default");
            object["data"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        }
        RecordedResponse::Error { message } => panic!("unexpected error {message}"),
    };
    assert_eq!(data(read("replay-bundle-present.yml")), ["ca.crt"]);
    assert_eq!(data(read("replay-bundle-no-key.yml")), ["bundle.pem"]);
    assert_eq!(
        read("replay-bundle-missing.yml"),
        RecordedResponse::Error {
            message:
                "Cannot find v1/ConfigMap named 'ca-bundle' inside of namespace 'Some(\"default\")'"
                    .into()
        }
    );
}
