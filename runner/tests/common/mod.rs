//! What the runner's tests share: running the `policy-runner` binary, and
//! hand-written waPC guests.
//!
//! Each guest answers `validate_settings` with a fixed answer and does one thing on
//! `validate` (trap, answer bytes, report a guest error, forward its payload to the
//! host), so every host path can be exercised without a guest toolchain.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `policy-runner` binary, without what would change its output: anyhow
/// appends a backtrace to an error when these variables ask for one.
pub fn runner_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy-runner"));
    command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    command
}

/// Runs `policy-runner` with `args`.
pub fn runner(args: &[&str]) -> Output {
    runner_command()
        .args(args)
        .output()
        .expect("policy-runner starts")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// What the module does when called with `validate`.
pub enum OnValidate<'a> {
    /// Executes `unreachable`.
    Trap,
    /// Answers these bytes.
    Answer(&'a str),
    /// Reports this guest error (`__guest_error`, returns 0).
    GuestError(&'a str),
    /// Sends its payload to the host as `kubewarden/<namespace>/<operation>`, then
    /// answers these bytes.
    ForwardPayload {
        namespace: &'a str,
        operation: &'a str,
        answer: &'a str,
    },
    /// Calls the host as `kubewarden/<namespace>/<operation>` with this payload and
    /// passes the outcome on unchanged: the host's answer as its own answer, the
    /// host's error as a guest error.
    RelayHostCall {
        namespace: &'a str,
        operation: &'a str,
        payload: &'a str,
    },
}

pub const SETTINGS_VALID: &str = r#"{"valid":true}"#;

/// Every byte as a `\hh` escape, so any text fits in a WAT string.
fn wat_bytes(text: &str) -> String {
    text.bytes().map(|b| format!("\\{b:02x}")).collect()
}

/// Offsets in the module's memory.
const SETTINGS_ANSWER: usize = 0;
const VALIDATE_TEXT: usize = 4096;
const BINDING: usize = 8192;
const OPERATION_IN: usize = 12288;
const PAYLOAD_IN: usize = 16384;
const HOST_ANSWER: usize = 65536;

/// WAT text of a waPC guest.
pub fn module_wat(settings_answer: &str, on_validate: &OnValidate<'_>) -> String {
    let (validate_text, body) = match on_validate {
        OnValidate::Trap => (String::new(), "unreachable".to_owned()),
        OnValidate::Answer(answer) => (
            answer.to_string(),
            format!(
                "(call $guest_response (i32.const {VALIDATE_TEXT}) (i32.const {})) (i32.const 1)",
                answer.len()
            ),
        ),
        OnValidate::GuestError(message) => (
            message.to_string(),
            format!(
                "(call $guest_error (i32.const {VALIDATE_TEXT}) (i32.const {})) (i32.const 0)",
                message.len()
            ),
        ),
        OnValidate::ForwardPayload {
            namespace,
            operation,
            answer,
        } => {
            let binding = "kubewarden";
            let ns_at = BINDING + binding.len();
            let op_at = ns_at + namespace.len();
            (
                answer.to_string(),
                format!(
                    "(drop (call $host_call (i32.const {BINDING}) (i32.const {}) (i32.const {ns_at}) (i32.const {}) \
                     (i32.const {op_at}) (i32.const {}) (i32.const {PAYLOAD_IN}) (local.get $msg_len))) \
                     (call $guest_response (i32.const {VALIDATE_TEXT}) (i32.const {})) (i32.const 1)",
                    binding.len(),
                    namespace.len(),
                    operation.len(),
                    answer.len()
                ),
            )
        }
        OnValidate::RelayHostCall {
            namespace,
            operation,
            payload,
        } => {
            let binding = "kubewarden";
            let ns_at = BINDING + binding.len();
            let op_at = ns_at + namespace.len();
            (
                payload.to_string(),
                format!(
                    "(if (result i32) (call $host_call (i32.const {BINDING}) (i32.const {}) (i32.const {ns_at}) (i32.const {}) \
                     (i32.const {op_at}) (i32.const {}) (i32.const {VALIDATE_TEXT}) (i32.const {})) \
                     (then (call $host_response (i32.const {HOST_ANSWER})) \
                       (call $guest_response (i32.const {HOST_ANSWER}) (call $host_response_len)) (i32.const 1)) \
                     (else (call $host_error (i32.const {HOST_ANSWER})) \
                       (call $guest_error (i32.const {HOST_ANSWER}) (call $host_error_len)) (i32.const 0)))",
                    binding.len(),
                    namespace.len(),
                    operation.len(),
                    payload.len()
                ),
            )
        }
    };
    let host_names = match on_validate {
        OnValidate::ForwardPayload {
            namespace,
            operation,
            ..
        }
        | OnValidate::RelayHostCall {
            namespace,
            operation,
            ..
        } => format!("kubewarden{namespace}{operation}"),
        _ => String::new(),
    };
    // Only the relaying guest imports these, so that the other guests' function
    // indices (which trap messages show) stay put.
    let host_answer_imports = match on_validate {
        OnValidate::RelayHostCall { .. } => {
            r#"  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
"#
        }
        _ => "",
    };
    format!(
        r#"(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
{host_answer_imports}  (memory (export "memory") 16)
  (data (i32.const {SETTINGS_ANSWER}) "{settings}")
  (data (i32.const {VALIDATE_TEXT}) "{validate}")
  (data (i32.const {BINDING}) "{host_names}")
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (call $guest_request (i32.const {OPERATION_IN}) (i32.const {PAYLOAD_IN}))
    ;; "validate" is the only operation 8 bytes long; anything else is validate_settings.
    (if (i32.ne (local.get $op_len) (i32.const 8))
      (then
        (call $guest_response (i32.const {SETTINGS_ANSWER}) (i32.const {settings_len}))
        (return (i32.const 1))))
    {body}))
"#,
        settings = wat_bytes(settings_answer),
        settings_len = settings_answer.len(),
        validate = wat_bytes(&validate_text),
        host_names = wat_bytes(&host_names),
    )
}

/// The module as wasm bytes.
pub fn module_wasm(settings_answer: &str, on_validate: &OnValidate<'_>) -> Vec<u8> {
    wat::parse_str(module_wat(settings_answer, on_validate)).expect("test module is valid WAT")
}

/// A fresh directory for one test's files.
pub fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policy-runner-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes the module into `dir` and returns its path.
pub fn write_module(dir: &Path, settings_answer: &str, on_validate: &OnValidate<'_>) -> PathBuf {
    let path = dir.join("module.wasm");
    std::fs::write(&path, module_wasm(settings_answer, on_validate)).expect("write module");
    path
}

/// The committed pod CREATE request.
pub fn pod_create_request() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pod_create_request.json")
}

pub const POD_CREATE_UID: &str = "1299d386-525b-4032-98ae-1949f69f9cfc";
