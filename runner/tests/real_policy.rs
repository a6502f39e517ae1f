//! The runner against the real cainjector module (`make policy.wasm`).
//!
//! These tests need the built artifact: `<workspace>/policy.wasm`, or the path in
//! `CAINJECTOR_POLICY_WASM`. Without it they say so on stderr and pass, so that a
//! plain `cargo test` works before the module is built; CI builds it first.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Output,
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
    let mut command = common::runner_command();
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
    assert_eq!(
        common::text(&output.stderr),
        "Error: Provided settings are not valid: one of the settings \"configMap\" or \"secret\" \
         is required: the name of the ConfigMap or Secret holding the trust bundle in each \
         namespace (e.g. configMap: ca-bundle), or \"clusterTrustBundle\"\n"
    );
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

/// `run --object MANIFEST --output human` with the project's default settings.
fn human(module: &Path, manifest: &str, extra: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = common::runner_command()
        .current_dir(&root)
        .args(["run", "--object", manifest, "--output", "human"])
        .args(extra)
        .args(["--settings-path", "policy-settings/default.yaml"])
        .arg(module)
        .output()
        .expect("policy-runner starts");
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_example_pod_gets_the_bundle_and_its_sidecar_is_left_alone() {
    let Some(module) = policy_wasm() else { return };
    assert_eq!(
        human(&module, "examples/pod.yaml", &[]),
        r#"accepted, with a patch of 3 operations:
  {"op":"add","path":"/spec/containers/0/env/1","value":{"name":"SSL_CERT_FILE","value":"/cacerts/ca.crt"}}
  {"op":"add","path":"/spec/containers/0/volumeMounts","value":[{"mountPath":"/cacerts","name":"cainjector-ca-bundle","readOnly":true}]}
  {"op":"add","path":"/spec/volumes","value":[{"configMap":{"name":"ca-bundle"},"name":"cainjector-ca-bundle"}]}
changed part of the Pod, as patched:
  spec:
    containers:
    - name: app
      env:
      - name: SSL_CERT_FILE
        value: /cacerts/ca.crt
      volumeMounts:
      - name: cainjector-ca-bundle
        mountPath: /cacerts
        readOnly: true
    volumes:
    - name: cainjector-ca-bundle
      configMap:
        name: ca-bundle
"#
    );
}

#[test]
fn the_example_deployment_template_is_injected_at_its_annotated_path() {
    let Some(module) = policy_wasm() else { return };
    assert_eq!(
        human(&module, "examples/deployment.yaml", &[]),
        r#"accepted, with a patch of 3 operations:
  {"op":"add","path":"/spec/template/spec/containers/0/env","value":[{"name":"SSL_CERT_FILE","value":"/etc/ssl/corp/ca.crt"}]}
  {"op":"add","path":"/spec/template/spec/containers/0/volumeMounts","value":[{"mountPath":"/etc/ssl/corp","name":"cainjector-ca-bundle","readOnly":true}]}
  {"op":"add","path":"/spec/template/spec/volumes","value":[{"configMap":{"name":"ca-bundle"},"name":"cainjector-ca-bundle"}]}
changed part of the Deployment, as patched:
  spec:
    template:
      spec:
        containers:
        - name: api
          env:
          - name: SSL_CERT_FILE
            value: /etc/ssl/corp/ca.crt
          volumeMounts:
          - name: cainjector-ca-bundle
            mountPath: /etc/ssl/corp
            readOnly: true
        volumes:
        - name: cainjector-ca-bundle
          configMap:
            name: ca-bundle
"#
    );
}

#[test]
fn a_manifest_in_an_excluded_namespace_is_accepted_unchanged() {
    let Some(module) = policy_wasm() else { return };
    assert_eq!(
        human(
            &module,
            "runner/tests/data/deployment.yaml",
            &["--namespace", "kube-system"]
        ),
        "accepted, unchanged\n"
    );
}

#[test]
fn manifests_the_policy_does_not_mutate_are_accepted_unchanged() {
    let Some(module) = policy_wasm() else { return };
    for (manifest, operation) in [
        ("runner/tests/data/configmap.yaml", "CREATE"),
        ("examples/pod.yaml", "UPDATE"),
        ("examples/pod.yaml", "DELETE"),
    ] {
        assert_eq!(
            human(&module, manifest, &["--operation", operation]),
            "accepted, unchanged\n",
            "{manifest} {operation}"
        );
    }
}

#[test]
fn a_bad_annotation_in_a_manifest_is_rejected_with_its_message() {
    let Some(module) = policy_wasm() else { return };
    let dir = common::temp_dir("real-bad-annotation");
    let manifest = dir.join("pod.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team-a\n  annotations:\n    cainjector.lestak.sh/mountPath: certs\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    )
    .unwrap();
    assert_eq!(
        human(&module, manifest.to_str().unwrap(), &[]),
        "rejected: annotation \"cainjector.lestak.sh/mountPath\": \"certs\" must be an absolute path (starting with '/')\n"
    );
}
