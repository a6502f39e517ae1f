//! The `policy-runner` binary: arguments, stdout, stderr and exit codes.

mod common;

use std::{path::Path, process::Output};

use common::{OnValidate, POD_CREATE_UID, SETTINGS_VALID, runner, temp_dir, text, write_module};

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

#[test]
fn accepted_request_prints_one_compact_line_and_exits_0() {
    let dir = temp_dir("cli-accept");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let output = run(&module, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            r#"{{"uid":"{POD_CREATE_UID}","allowed":true,"auditAnnotations":null,"warnings":null}}"#
        ) + "\n"
    );
}

#[test]
fn rejected_request_still_exits_0() {
    let dir = temp_dir("cli-reject");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(
            r#"{"accepted":false,"message":"no trust bundle","code":400,"warnings":["w"]}"#,
        ),
    );
    let output = run(&module, &[]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stdout),
        format!(
            r#"{{"uid":"{POD_CREATE_UID}","allowed":false,"status":{{"message":"no trust bundle","code":400}},"auditAnnotations":null,"warnings":["w"]}}"#
        ) + "\n"
    );
}

#[test]
fn a_trapping_module_gives_a_500_answer_and_exits_0() {
    let dir = temp_dir("cli-trap");
    let module = write_module(&dir, SETTINGS_VALID, &OnValidate::Trap);
    let output = run(&module, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let response: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["uid"], POD_CREATE_UID);
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 500);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .starts_with("internal server error: Guest call failure: ")
    );
}

#[test]
fn an_admission_review_gives_the_same_answer_as_its_request() {
    let dir = temp_dir("cli-review");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let review = common::pod_create_request().with_file_name("pod_create_review.json");
    let from_review = runner(&[
        "run",
        "--disable-wasmtime-cache",
        "-r",
        review.to_str().unwrap(),
        module.to_str().unwrap(),
    ]);
    assert_eq!(from_review.stdout, run(&module, &[]).stdout);
}

#[test]
fn invalid_settings_print_kwctls_error_on_stderr_only_and_exit_1() {
    let dir = temp_dir("cli-settings");
    let module = write_module(
        &dir,
        r#"{"valid":false,"message":"exactly one of configMap or secret is required"}"#,
        &OnValidate::Trap,
    );
    let output = run(&module, &["--settings-json", "{}"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        "Error: Provided settings are not valid: exactly one of configMap or secret is required\n"
    );
}

#[test]
fn settings_file_is_yaml() {
    let dir = temp_dir("cli-settings-yaml");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let settings = dir.join("settings.yaml");
    std::fs::write(
        &settings,
        "configMap: trust-bundle\nenvVars:\n  - NODE_EXTRA_CA_CERTS\n",
    )
    .unwrap();
    let output = run(&module, &["--settings-path", settings.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn settings_that_are_not_an_object_are_refused_before_loading_the_module() {
    let output = run(
        Path::new("/nonexistent/module.wasm"),
        &["--settings-json", "[]"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "Error: Invalid settings in CRD, not an object\n"
    );
}

#[test]
fn settings_path_and_settings_json_are_exclusive() {
    let output = run(
        Path::new("/nonexistent/module.wasm"),
        &["--settings-json", "{}", "--settings-path", "s.yaml"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: the argument '--settings-json <VALUE>' cannot be used with '--settings-path <PATH>'\n\n\
         Usage: policy-runner run --disable-wasmtime-cache --request-path <PATH> --settings-json <VALUE> <MODULE>\n\n\
         For more information, try '--help'.\n"
    );
}

#[test]
fn a_missing_request_file_is_named() {
    let output = runner(&[
        "run",
        "--request-path",
        "/nonexistent/request.json",
        "/nonexistent/module.wasm",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "Error: Error opening request file /nonexistent/request.json; No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_missing_module_is_named() {
    let output = run(Path::new("/nonexistent/module.wasm"), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "Error: cannot read policy module /nonexistent/module.wasm: No such file or directory (os error 2)\n"
    );
}

#[test]
fn policy_log_lines_go_to_stderr_only_with_verbose() {
    let dir = temp_dir("cli-log");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::ForwardPayload {
            namespace: "tracing",
            operation: "log",
            answer: r#"{"accepted":true}"#,
        },
    );
    let quiet = run(&module, &[]);
    assert_eq!(text(&quiet.stderr), "");
    let verbose = run(&module, &["--verbose"]);
    assert_eq!(verbose.stdout, quiet.stdout);
    assert!(text(&verbose.stderr).starts_with("policy log: {\"request\":"));
}

/// tiny-bench's report without its colours.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = rest.find('m').map_or("", |m| &rest[m + 1..]);
    }
    out + rest
}

#[test]
fn bench_reports_both_calls_in_tiny_bench_layout() {
    let dir = temp_dir("cli-bench");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let request = common::pod_create_request();
    let output = runner(&[
        "bench",
        "--disable-wasmtime-cache",
        "--warm-up-time",
        "0",
        "--iterations",
        "5",
        "-r",
        request.to_str().unwrap(),
        module.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = plain(&text(&output.stdout));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{stdout}");
    for (first, label) in [(0, "validate_settings"), (4, "validate")] {
        assert_eq!(lines[first], format!("{label} warming up for 0.00ns"));
        assert!(lines[first + 1].starts_with(&format!("{label} mean warm up execution time ")));
        assert!(lines[first + 1].ends_with(" running 5.0 iterations"));
        assert!(lines[first + 2].starts_with(&format!("{label} [5.0 iterations in ")));
        assert!(lines[first + 2].ends_with(" with 100.0 samples]:"));
        assert!(lines[first + 3].starts_with("\telapsed\t[min mean max]:\t["));
    }
}

#[test]
fn bench_refuses_a_negative_time_naming_the_option() {
    let dir = temp_dir("cli-bench-negative");
    let module = write_module(
        &dir,
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let request = common::pod_create_request();
    let output = runner(&[
        "bench",
        "--measurement-time=-1",
        "-r",
        request.to_str().unwrap(),
        module.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "Error: Cannot convert 'measurement-time' to seconds: cannot convert float seconds to Duration: value is negative\n"
    );
}
