//! The runner against the real cainjector module (`make policy.wasm`).
//!
//! These tests need the built artifact: `<workspace>/policy.wasm`, or the path in
//! `CAINJECTOR_POLICY_WASM`. Without it they say so on stderr and pass, so that a
//! plain `cargo test` works before the module is built; CI builds it first.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use base64::Engine as _;
use serde_json::Value;

fn policy_wasm() -> Option<PathBuf> {
    let path = std::env::var_os("CAINJECTOR_POLICY_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy.wasm"));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipped: {} not built (make policy.wasm)", path.display());
        None
    }
}

fn run(module: &Path, request: &Path, settings_json: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy-runner"));
    // anyhow appends a backtrace to the error when these ask for one.
    command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    command.args(["run", "--request-path", request.to_str().unwrap()]);
    if let Some(settings) = settings_json {
        command.args(["--settings-json", settings]);
    }
    command.arg(module).output().expect("policy-runner starts")
}

fn response(output: &Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

#[test]
fn settings_without_a_bundle_source_are_refused() {
    let Some(module) = policy_wasm() else { return };
    let output = run(&module, &common::pod_create_request(), None);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr)
        .starts_with("Error: Provided settings are not valid: "));
}

#[test]
fn pod_create_is_accepted_with_a_patch_that_applies() {
    let Some(module) = policy_wasm() else { return };
    let request_path = common::pod_create_request();
    let answer = response(&run(
        &module,
        &request_path,
        Some(r#"{"configMap":"trust-bundle"}"#),
    ));
    assert_eq!(answer["uid"], common::POD_CREATE_UID);
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["patchType"], "JSONPatch");

    let patch = base64::engine::general_purpose::STANDARD
        .decode(answer["patch"].as_str().unwrap())
        .unwrap();
    let patch: json_patch::Patch = serde_json::from_slice(&patch).unwrap();
    let request: Value =
        serde_json::from_str(&std::fs::read_to_string(&request_path).unwrap()).unwrap();
    let mut pod = request["object"].clone();
    json_patch::patch(&mut pod, &patch).unwrap();
    assert_ne!(pod, request["object"]);
}

#[test]
fn pod_delete_is_accepted_unchanged() {
    let Some(module) = policy_wasm() else { return };
    let request = common::pod_create_request().with_file_name("pod_delete_request.json");
    let answer = response(&run(
        &module,
        &request,
        Some(r#"{"configMap":"trust-bundle"}"#),
    ));
    assert_eq!(answer["allowed"], true);
    assert!(answer.get("patch").is_none());
}
